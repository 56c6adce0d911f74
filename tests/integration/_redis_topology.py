"""Real Redis topologies on loopback for the tests: Sentinel (master, replica, 3 sentinels)
and a three-master Cluster, each server a ``redis-server`` child process in a temp folder.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from rainbond_kit.embedded import ChildServer, free_port

PASSWORD = "data-pass"
SENTINEL_PASSWORD = "sentinel-pass"
MASTER_NAME = "kitmaster"


def redis_server() -> str:
    """``redis-server`` from PATH, or skip the test saying what is missing."""
    found = shutil.which("redis-server")
    if found is None:
        pytest.skip("redis-server is not on PATH: Sentinel and Cluster tests need it")
    return found


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``check`` (exceptions count as "not yet") until true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def _bus_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    while True:
        port = free_port()
        if port < 55535 and _bus_free(port + 10000):
            return port


class Server(ChildServer):
    """``redis-server`` with a config file in ``folder``; ``kill()`` is SIGKILL (a crash)."""

    name = "redis-server"

    def __init__(
        self, folder: Path, lines: list[str], *, sentinel: bool = False, port: int | None = None
    ) -> None:
        super().__init__(port)
        self.folder = folder / str(self.port)
        self.folder.mkdir(parents=True)
        self.config = self.folder / "redis.conf"
        base = [
            f"port {self.port}",
            "bind 127.0.0.1",
            f'dir "{self.folder}"',
            'save ""',
            "appendonly no",
        ]
        self.config.write_text("\n".join(base + lines) + "\n")
        self.sentinel = sentinel

    def command(self) -> list[str]:
        return [redis_server(), str(self.config), *(["--sentinel"] if self.sentinel else [])]

    def kill(self) -> None:
        """SIGKILL: the server dies without a word to its replicas or clients."""
        proc = self._proc
        if proc is not None:
            proc.kill()
            proc.wait()
            if proc.stderr:
                proc.stderr.close()
        self.stop()

    def ask(self, *command: Any, password: str | None = PASSWORD) -> Any:
        """Run one command on this server over a connection of its own."""
        with redis.Redis(
            port=self.port, password=password, decode_responses=True, socket_timeout=5
        ) as client:
            return client.execute_command(*command)


@dataclass
class SentinelSetup:
    """A master, two replicas and three sentinels (quorum 2), all password-protected.

    Two replicas, so that after a failover the new master still has one to acknowledge
    ``WAIT 1``.
    """

    master: Server
    replicas: list[Server]
    sentinels: list[Server]
    servers: list[Server] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels),
            "REDIS_SENTINEL_MASTER": MASTER_NAME,
            "REDIS_SENTINEL_PASSWORD": SENTINEL_PASSWORD,
            "REDIS_PASSWORD": PASSWORD,
        }

    def master_port(self) -> int:
        """The master's port as the first sentinel sees it now."""
        found = self.sentinels[0].ask(
            "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME, password=SENTINEL_PASSWORD
        )
        return int(found[1])

    def ready(self) -> bool:
        """Every sentinel knows both replicas and the two other sentinels; both replicas synced."""
        for sentinel in self.sentinels:
            state = sentinel.ask("SENTINEL", "MASTER", MASTER_NAME, password=SENTINEL_PASSWORD)
            if int(state["num-slaves"]) < 2 or int(state["num-other-sentinels"]) < 2:
                return False
        return all(
            replica.ask("INFO", "replication")["master_link_status"] == "up"
            for replica in self.replicas
        )


def start_sentinel_setup(folder: Path) -> SentinelSetup:
    auth = [f'requirepass "{PASSWORD}"', f'masterauth "{PASSWORD}"']
    master = Server(folder, auth)
    replicas = [Server(folder, [*auth, f"replicaof 127.0.0.1 {master.port}"]) for _ in range(2)]
    sentinels = [
        Server(
            folder,
            [
                f'requirepass "{SENTINEL_PASSWORD}"',
                f'sentinel sentinel-pass "{SENTINEL_PASSWORD}"',
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master.port} 2",
                f'sentinel auth-pass {MASTER_NAME} "{PASSWORD}"',
                f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
                f"sentinel failover-timeout {MASTER_NAME} 5000",
            ],
            sentinel=True,
        )
        for _ in range(3)
    ]
    setup = SentinelSetup(master, replicas, sentinels, [master, *replicas, *sentinels])
    for server in setup.servers:
        server.start()
    wait_for(setup.ready, "the sentinels to discover the replicas and each other")
    return setup


@dataclass
class ClusterSetup:
    """Three masters sharing the 16384 slots, password-protected."""

    nodes: list[Server]

    @property
    def env(self) -> dict[str, str]:
        return {
            "REDIS_CLUSTER_NODES": ",".join(f"127.0.0.1:{n.port}" for n in self.nodes),
            "REDIS_PASSWORD": PASSWORD,
        }

    def ok(self) -> bool:
        return all("cluster_state:ok" in str(n.ask("CLUSTER", "INFO")) for n in self.nodes)


def _assign_slots(nodes: list[Server]) -> None:
    """Slots and introductions by hand, when ``redis-cli`` is not on PATH."""
    for node in nodes[1:]:
        nodes[0].ask("CLUSTER", "MEET", "127.0.0.1", node.port)
    share = 16384 // len(nodes)
    for index, node in enumerate(nodes):
        end = 16384 if index == len(nodes) - 1 else (index + 1) * share
        node.ask("CLUSTER", "ADDSLOTSRANGE", index * share, end - 1)


def start_cluster(folder: Path) -> ClusterSetup:
    nodes = [
        Server(
            folder,
            [
                f'requirepass "{PASSWORD}"',
                f'masterauth "{PASSWORD}"',
                "cluster-enabled yes",
                "cluster-config-file nodes.conf",
                "cluster-node-timeout 5000",
            ],
            port=cluster_port(),
        )
        for _ in range(3)
    ]
    setup = ClusterSetup(nodes)
    for node in nodes:
        node.start()
    cli = shutil.which("redis-cli")
    if cli is not None:
        subprocess.run(
            [
                cli,
                "-a",
                PASSWORD,
                "--no-auth-warning",
                "--cluster",
                "create",
                *(f"127.0.0.1:{n.port}" for n in nodes),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    else:
        _assign_slots(nodes)
    wait_for(setup.ok, "the cluster to cover all 16384 slots")
    return setup


@pytest.fixture(name="sentinel_setup")
def sentinel_setup_fixture(tmp_path: Path) -> Iterator[SentinelSetup]:
    """A fresh Sentinel setup of this test's own (it may kill the master)."""
    redis_server()
    setup = start_sentinel_setup(tmp_path / "sentinel")
    yield setup
    for server in setup.servers:
        server.stop()


@pytest.fixture(name="redis_cluster", scope="module")
def redis_cluster_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterSetup]:
    """A three-master Cluster shared by the module's tests."""
    redis_server()
    setup = start_cluster(tmp_path_factory.mktemp("cluster"))
    yield setup
    for node in setup.nodes:
        node.stop()
