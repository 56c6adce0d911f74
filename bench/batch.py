"""Batch writes: 1,000 creates as one ``POST /batch`` vs 1,000 single ``POST``s.

Run: ``python -m bench.batch`` (``--items N``, ``--rounds R``; ``--quick`` for 100 items, 1
round, nothing written). The sample app serves ``/api/v1/books`` on a real loopback HTTP
server (Werkzeug, threaded) in this process; one keep-alive ``requests`` session sends either
``N`` single creates or one batch of ``N`` creates, in alternating order per round. A pymongo
``CommandListener`` on the app's client counts the MongoDB commands (round trips) each way
takes; the wall time includes HTTP, validation, the server and MongoDB.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymongo
import requests
from pymongo import monitoring
from sample_app import create_app as create_sample_app
from werkzeug.serving import make_server

from bench._common import kit_settings, median, mongo_server, print_table, publish
from rainbond_kit import RainbondKit
from rainbond_kit.testing import override

__all__ = ["main", "run"]

PATH = "/api/v1/books"


class Commands(monitoring.CommandListener):
    """Counts the commands sent to MongoDB (each one a round trip), by name."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self.lock:
            self.counts[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def take(self) -> dict[str, int]:
        """The counts since the last call (monitoring commands excluded)."""
        with self.lock:
            taken = {k: v for k, v in self.counts.items() if k not in ("hello", "ismaster")}
            self.counts.clear()
        return taken


@contextmanager
def _served(app: Any) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{PATH}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _book(n: int, tag: str) -> dict[str, Any]:
    return {"title": f"{tag} {n:05d}", "author": f"author-{n % 50:03d}", "year": 1900 + n % 120}


def _singles(session: requests.Session, url: str, items: int, tag: str) -> float:
    started = time.perf_counter()
    for n in range(items):
        response = session.post(url, json=_book(n, tag), timeout=60)
        if response.status_code != 201:
            raise RuntimeError(f"single POST: {response.status_code} {response.text[:300]}")
    return time.perf_counter() - started


def _batch(session: requests.Session, url: str, items: int, tag: str) -> float:
    body = {"ordered": False, "operations": [{"op": "create", "data": _book(n, tag)} for n in range(items)]}  # fmt: skip
    started = time.perf_counter()
    response = session.post(f"{url}/batch", json=body, timeout=300)
    elapsed = time.perf_counter() - started
    answer = response.json()
    if response.status_code != 207 or answer["succeeded"] != items:
        raise RuntimeError(f"batch: {response.status_code} {response.text[:300]}")
    return elapsed


def run(
    uri: str, *, items: int = 1000, rounds: int = 3, database: str = "bench_batch"
) -> dict[str, Any]:
    """Time ``items`` creates both ways, ``rounds`` times; count MongoDB round trips."""
    listener = Commands()
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        uri, event_listeners=[listener], tz_aware=True
    )
    client.drop_database(database)
    app = create_sample_app(kit_settings(uri, database), {"TESTING": True})
    single_s: list[float] = []
    batch_s: list[float] = []
    trips: dict[str, dict[str, int]] = {}
    try:
        with override(app, mongo_client=client), _served(app) as url, requests.Session() as session:
            session.get(url, timeout=60)  # indexes created, connections warm
            listener.take()
            for r in range(rounds):
                ways = [("single", _singles, single_s), ("batch", _batch, batch_s)]
                for name, way, times in ways if r % 2 == 0 else reversed(ways):
                    times.append(way(session, url, items, f"{name}{r}"))
                    trips[name] = listener.take()
            stored = client[database]["books"].count_documents({})
    finally:
        RainbondKit.shutdown(app)
        client.drop_database(database)
        client.close()
    if stored != 2 * items * rounds:
        raise RuntimeError(f"expected {2 * items * rounds} books, found {stored}")
    single, batch = median(single_s), median(batch_s)
    return {
        "params": {"items": items, "rounds": rounds},
        "single": {
            "seconds": round(single, 3),
            "creates_per_second": round(items / single, 1),
            "round_trips": trips["single"],
            "rounds_seconds": [round(s, 3) for s in single_s],
        },
        "batch": {
            "seconds": round(batch, 3),
            "creates_per_second": round(items / batch, 1),
            "round_trips": trips["batch"],
            "rounds_seconds": [round(s, 3) for s in batch_s],
        },
        "speedup": round(single / batch, 1),
        "target_speedup": 10,
    }


def report(result: dict[str, Any]) -> None:
    rows = [
        [name, result[name]["seconds"], result[name]["creates_per_second"],
         sum(result[name]["round_trips"].values()), result[name]["round_trips"]]
        for name in ("single", "batch")
    ]  # fmt: skip
    print_table(
        f"{result['params']['items']} creates (median of {result['params']['rounds']} rounds)",
        ["way", "seconds", "creates/s", "mongo round trips", "by command"],
        rows,
    )
    print(f"speedup: {result['speedup']}x (target >= {result['target_speedup']}x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 items, 1 round, not written")
    args = parser.parse_args(argv)
    items, rounds = (100, 1) if args.quick else (args.items, args.rounds)
    with mongo_server() as uri:
        result = run(uri, items=items, rounds=rounds)
    publish("batch", result, report, write=not args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
