"""Load without loss: gunicorn (3 gthread workers) serving the sample app, concurrent clients.

Creates, atomic ``reads`` increments, deletes and lists for a bounded time on loopback; then
every acknowledged write is checked in the database and each worker's memory is reported.
``RAINBOND_LOAD_SECONDS`` sets the load time (default 8).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
import requests
from bson import ObjectId

from tests.integration._gunicorn import children
from tests.integration._gunicorn import gunicorn as run_gunicorn
from tests.integration._served import Call, timed

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
CLIENTS = 6
SECONDS = float(os.environ.get("RAINBOND_LOAD_SECONDS", "8"))
#: Generous: a worker's first thousands of requests fill caches and pools, not a leak.
RSS_GROWTH_BOUND_KB = 60 * 1024
BOOKS = "/api/v1/books"


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


@pytest.fixture
def gunicorn(mongo_uri: str, mongo_db_name: str, redis_url: str) -> Iterator[tuple[str, int]]:
    """``gunicorn sample_app.wsgi:app`` with 3 gthread workers; yields its URL and master pid."""
    env = {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name, "REDIS_URL": redis_url}
    with run_gunicorn(env, workers=WORKERS, options=["-k", "gthread", "--threads", "4"]) as served:
        yield served


class Ledger:
    """What the clients were told: acknowledged creates, increments and deletes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.shared: list[str] = []  # books every client may count reads of
        self.created: set[str] = set()
        self.deleted: set[str] = set()
        self.reads: Counter[str] = Counter()
        self.calls: list[tuple[str, Call]] = []


def _client(url: str, ledger: Ledger, worker: int, until: float) -> None:
    rng = random.Random(worker)
    own: list[str] = []  # this client's deletable books (nobody counts their reads)
    with requests.Session() as session:
        while time.monotonic() < until:
            roll = rng.random()
            with ledger.lock:
                shared = list(ledger.shared)
            if roll < 0.35 or not shared:
                deletable = rng.random() < 0.3
                call = timed(session, "POST", f"{url}{BOOKS}",
                             json={"title": f"c{worker}", "author": "load", "tags": ["x"]})  # fmt: skip
                kind = "create"
                if call.status == 201:
                    with ledger.lock:
                        ledger.created.add(call.body["id"])
                        (own if deletable else ledger.shared).append(call.body["id"])
            elif roll < 0.8:
                book = rng.choice(shared[:5] if rng.random() < 0.7 else shared)  # contention
                call = timed(session, "POST", f"{url}{BOOKS}/{book}/reads")
                kind = "read"
                if call.status == 204:
                    with ledger.lock:
                        ledger.reads[book] += 1
            elif roll < 0.9 and own:
                book = own.pop()
                call = timed(session, "DELETE", f"{url}{BOOKS}/{book}")
                kind = "delete"
                if call.status == 204:
                    with ledger.lock:
                        ledger.deleted.add(book)
            else:
                call = timed(session, "GET", f"{url}{BOOKS}?author=load&$count=none&$limit=20")
                kind = "list"
            with ledger.lock:
                ledger.calls.append((kind, call))


def test_load_without_loss(
    gunicorn: tuple[str, int],
    mongo_client: pymongo.MongoClient[dict[str, Any]],
    mongo_db_name: str,
) -> None:
    """Zero 5xx; every acknowledged create stored, every delete applied, counters exact."""
    url, master = gunicorn
    workers = children(master)
    with requests.Session() as warm:
        for _ in range(3 * WORKERS):
            assert warm.get(f"{url}{BOOKS}", timeout=30).status_code == 200
    rss_start = {pid: _rss_kb(pid) for pid in workers}
    ledger = Ledger()
    until = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=_client, args=(url, ledger, i, until)) for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SECONDS + 60)
    rss_end = {pid: _rss_kb(pid) for pid in workers}
    assert children(master) == workers, "a worker was replaced during the load"

    statuses = Counter(call.status for _, call in ledger.calls)
    kinds = Counter(kind for kind, _ in ledger.calls)
    books = mongo_client[mongo_db_name].books
    stored = {
        str(d["_id"]): d
        for d in books.find({"_id": {"$in": [ObjectId(i) for i in ledger.created]}})
    }
    lost = ledger.created - stored.keys()
    not_deleted = [i for i in ledger.deleted if "remove_time" not in stored.get(i, {})]
    wrong_counts = {
        book: (count, stored.get(book, {}).get("reads"))
        for book, count in ledger.reads.items()
        if stored.get(book, {}).get("reads") != count
    }
    latencies = sorted(call.latency for _, call in ledger.calls)
    print(
        f"\nload: {len(ledger.calls)} requests in {SECONDS:.0f}s "
        f"({len(ledger.calls) / SECONDS:.0f}/s) {dict(kinds)}, statuses {dict(statuses)}, "
        f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms\n"
        f"load: {len(ledger.created)} acknowledged creates, {len(lost)} lost; "
        f"{len(ledger.deleted)} deletes, {len(not_deleted)} not applied; "
        f"{sum(ledger.reads.values())} acknowledged increments over {len(ledger.reads)} books, "
        f"{len(wrong_counts)} counters off"
    )
    for pid in workers:
        print(
            f"load: worker {pid} RSS {rss_start[pid] / 1024:.1f} MiB -> "
            f"{rss_end[pid] / 1024:.1f} MiB"
        )
    assert not [s for s in statuses if s >= 500 or s == 0], statuses
    assert set(statuses) <= {200, 201, 204}, statuses
    assert not lost
    assert not not_deleted
    assert not wrong_counts
    assert kinds["read"] > 100
    for pid in workers:
        assert rss_end[pid] - rss_start[pid] < RSS_GROWTH_BOUND_KB, (pid, rss_start, rss_end)
