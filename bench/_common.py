"""Shared pieces of the benchmarks: the Mongo server, seed data, timing, tables, result files."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pymongo

from rainbond_kit.embedded import running_mongo as mongo_server
from rainbond_kit.settings import MongoSettings, RedisSettings, Settings

__all__ = [
    "AUTHORS",
    "RESULTS_DIR",
    "WsgiCaller",
    "book_docs",
    "cpu_per_call",
    "kit_settings",
    "machine",
    "measure_interleaved",
    "median",
    "mongo_server",
    "print_table",
    "publish",
    "seed_books",
    "write_result",
]

RESULTS_DIR = Path(__file__).parent / "results"
#: distinct author names: ``author=author-007`` (a *contains* match) selects exactly one of them
AUTHORS = tuple(f"author-{i:03d}" for i in range(50))
_EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)


def kit_settings(uri: str, database: str) -> Settings:
    """Settings for a benchmark app: this Mongo, and a Redis that is 'configured' but unused."""
    return Settings(
        mongo=MongoSettings(uri=uri, database=database, embedded=False),
        redis=RedisSettings(url="redis://127.0.0.1:1/0", configured=True, socket_timeout=0.2),
    )


def book_docs(
    count: int, *, removed_every: int = 9, authors: int = len(AUTHORS)
) -> list[dict[str, Any]]:
    """``count`` stored books as rainbond-kit writes them; every ``removed_every``-th is soft-deleted."""
    docs = []
    for i in range(count):
        created = _EPOCH + dt.timedelta(minutes=i)
        doc: dict[str, Any] = {
            "title": f"title {(i * 7919) % count:06d}",
            "author": AUTHORS[i % authors],
            "year": 1900 + i % 120,
            "tags": [f"tag{i % 7}", f"tag{i % 11}"],
            "creation_time": created,
            "update_time": created,
        }
        if removed_every and i % removed_every == removed_every - 1:
            doc["remove_time"] = created + dt.timedelta(days=1)
        docs.append(doc)
    return docs


def seed_books(
    client: pymongo.MongoClient[dict[str, Any]],
    database: str,
    count: int,
    *,
    batch: int = 1000,
    **kwargs: Any,
) -> pymongo.collection.Collection[dict[str, Any]]:
    """Drop ``database.books`` and insert ``count`` books in batches (SecantusDB likes batches)."""
    client.drop_database(database)
    collection = client[database]["books"]
    docs = book_docs(count, **kwargs)
    for start in range(0, len(docs), batch):
        collection.insert_many(docs[start : start + batch], ordered=False)
    return collection


class WsgiCaller:
    """Call a WSGI app directly (no test client, no socket): the cheapest faithful request."""

    def __init__(self, app: Callable[..., Any], path: str, query: str) -> None:
        self.app = app
        self.environ_base = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        self.status = ""

    def _start_response(self, status: str, headers: Any, exc_info: Any = None) -> None:
        self.status = status

    def __call__(self) -> bytes:
        """One request; returns the body (raises if the status is not 200)."""
        import io
        import sys

        environ = dict(self.environ_base)
        environ["wsgi.input"] = io.BytesIO(b"")
        environ["wsgi.errors"] = sys.stderr
        result = self.app(environ, self._start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not self.status.startswith("200"):
            raise RuntimeError(f"{self.environ_base['PATH_INFO']}: {self.status} {body[:300]!r}")
        return body


def cpu_per_call(
    call: Callable[[], Any], count: int, clock: Callable[[], float] = time.process_time
) -> tuple[float, float]:
    """Run ``call`` ``count`` times; return (CPU µs per call, calls per wall second).

    ``time.process_time`` (the default ``clock``) counts this process only: the app, Flask and
    the pymongo client, not the database server (a separate process). ``time.thread_time``
    also leaves out this process's background threads (pymongo's server monitors).
    """
    wall0, cpu0 = time.perf_counter(), clock()
    for _ in range(count):
        call()
    cpu, wall = clock() - cpu0, time.perf_counter() - wall0
    return cpu / count * 1e6, count / wall


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def measure_interleaved(
    callers: Mapping[str, Callable[[], Any]],
    *,
    requests: int,
    rounds: int,
    warmup: int,
    clock: Callable[[], float] = time.process_time,
) -> dict[str, dict[str, Any]]:
    """Warm each caller up, then ``rounds`` rounds of ``requests`` calls each, interleaved.

    Returns, per caller, the median CPU µs per call and calls per second over the rounds,
    and every round's figures.
    """
    for call in callers.values():
        for _ in range(warmup):
            call()
    per_round: dict[str, list[tuple[float, float]]] = {name: [] for name in callers}
    for n in range(rounds):
        order = list(callers.items())
        if n % 2:
            order.reverse()  # neither contender always runs first
        for name, call in order:
            per_round[name].append(cpu_per_call(call, requests, clock))
    return {
        name: {
            "cpu_us": median([cpu for cpu, _ in figures]),
            "rps": median([rps for _, rps in figures]),
            "rounds_cpu_us": [round(cpu, 1) for cpu, _ in figures],
            "rounds_rps": [round(rps, 2) for _, rps in figures],
        }
        for name, figures in per_round.items()
    }


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "mongo": "MONGODB_URI" if os.environ.get("MONGODB_URI") else "SecantusDB (embedded)",
    }


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain-text table on stdout."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if n and i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def publish(
    name: str, result: dict[str, Any], report: Callable[[dict[str, Any]], None], *, write: bool
) -> None:
    """Print ``result`` with ``report``; with ``write``, save it as ``bench/results/<name>.json``."""
    report(result)
    if write:
        print(f"written: {write_result(name, result)}")


def write_result(name: str, result: dict[str, Any], directory: Path | None = None) -> Path:
    """Write ``result`` (plus the machine and date) to ``bench/results/<name>.json``."""
    directory = directory or RESULTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    payload = {
        "benchmark": name,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        **result,
    }
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
