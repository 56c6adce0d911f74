"""gunicorn ``--preload``: the master imports and builds the app but never connects to
MongoDB (a connection opened before the fork would be shared by every worker); each worker
opens its own after the fork, and its index builder runs there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.integration._gunicorn import children, gunicorn

pytestmark = pytest.mark.slow

WORKERS = 2


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
    env = {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name, "REDIS_URL": "", "REDIS_HOST": ""}
    options = ["--preload", "-k", "gthread", "--threads", "2"]
    with gunicorn(env, workers=WORKERS, options=options) as served:
        yield served


def test_the_preloading_master_never_connects_to_mongodb(
    preloaded: tuple[str, int], mongo_uri: str
) -> None:
    url, master = preloaded
    mongo_port = urlsplit(mongo_uri).port or 27017
    with requests.Session() as session:
        for _ in range(4 * WORKERS):  # reach every worker: lists, and the index builders
            listed = session.get(f"{url}/api/v1/books", timeout=30)
            assert listed.status_code == 200, listed.text
    workers = children(master)
    assert len(workers) == WORKERS
    # control: the workers do talk to MongoDB over their own connections
    assert sum(_connections_to(pid, mongo_port) for pid in workers) > 0
    assert _connections_to(master, mongo_port) == 0
