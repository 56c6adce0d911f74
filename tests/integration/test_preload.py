"""gunicorn ``--preload``: the master imports and builds the app but never connects to
MongoDB (a connection opened before the fork would be shared by every worker); each worker
opens its own after the fork, and its index builder runs there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from rainbond_kit.embedded import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2


def _children(pid: int) -> list[int]:
    return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _connections_to(pid: int, port: int) -> int:
    """Established TCP connections of ``pid`` whose remote port is ``port`` (from /proc)."""
    mine = _socket_inodes(pid)
    found = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            established = fields[3] == "01"
            if remote_port == port and established and fields[9] in mine:
                found += 1
    return found


@pytest.fixture
def preloaded(mongo_uri: str, mongo_db_name: str) -> Iterator[tuple[str, int]]:
    """``gunicorn --preload`` over the sample app (Redis off); its URL and master pid."""
    port = free_port()
    env = {
        **os.environ,
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": mongo_db_name,
        "PYTHONPATH": str(ROOT),
        "RAINBOND_AUTH": "off",
    }
    for name in ("REDIS_URL", "REDIS_HOST"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--preload", "-w", str(WORKERS), "-k", "gthread",
         "--threads", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "sample_app.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not become ready"
            try:
                ready = requests.get(f"{url}/readyz", timeout=15).status_code == 200
                if ready and len(_children(process.pid)) == WORKERS:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def test_the_preloading_master_never_connects_to_mongodb(
    preloaded: tuple[str, int], mongo_uri: str
) -> None:
    url, master = preloaded
    mongo_port = urlsplit(mongo_uri).port or 27017
    with requests.Session() as session:
        for _ in range(4 * WORKERS):  # reach every worker: lists, and the index builders
            listed = session.get(f"{url}/api/v1/books", timeout=30)
            assert listed.status_code == 200, listed.text
    workers = _children(master)
    assert len(workers) == WORKERS
    # control: the workers do talk to MongoDB over their own connections
    assert sum(_connections_to(pid, mongo_port) for pid in workers) > 0
    assert _connections_to(master, mongo_port) == 0
