"""List latency per count mode as the collection grows, and the query time limit's 503.

Run: ``python -m bench.count_modes`` (sizes 1,000 / 10,000 / 100,000; ``--quick`` for 500 /
2,000 without writing results). The sample app serves ``/api/v1/books`` from the same process
(WSGI called directly); each figure is the median wall time of ``--repeat`` interleaved calls of
``GET /api/v1/books?$limit=20&$count=<mode>`` (one in nine books soft-deleted, no filter: the
default list), server included, and what counting adds to the page alone (``none``).
Alongside, the bare driver calls behind each mode.

SecantusDB (the default server) reads the whole collection for every query, ``find().limit(21)``
and ``count_documents(limit=...)`` included, so there only the kit's added work is meaningful;
set ``MONGODB_URI`` to measure a real MongoDB.

Then, at the largest size, a slow list (``title=<no match>``: a *contains* filter reads every
document) is timed under the default limit and under ``MONGODB_QUERY_TIMEOUT_MS`` of
``--limit-ms``: the second answers 503 after about the limit.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import sys
import time
from typing import Any
from urllib.parse import quote, urlencode

import pymongo
from sample_app import create_app as create_sample_app

from bench._common import book_docs, kit_settings, median, mongo_server, print_table, publish
from rainbond_kit import RainbondKit
from rainbond_kit.data.fields import REMOVE_TIME

__all__ = ["main", "run"]

PATH = "/api/v1/books"
MODES = ("exact", "estimated", "bounded", "none")
SLOW = {"title": "no-such-title", "$limit": "20"}


def _call(app: Any, params: dict[str, str]) -> tuple[float, int, dict[str, str]]:
    """One GET; ``(ms, status, headers)``."""
    found: dict[str, Any] = {}

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        found["status"], found["headers"] = int(status.split()[0]), dict(headers)

    environ = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": PATH,
        "QUERY_STRING": urlencode(params, quote_via=quote), "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
        "wsgi.multiprocess": False, "wsgi.run_once": False,
    }  # fmt: skip
    start = time.perf_counter()
    result = app.wsgi_app(environ, start_response)
    try:
        b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return (time.perf_counter() - start) * 1000, found["status"], found["headers"]


def _timed(call: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return round(median(times), 2)


def _modes(app: Any, repeat: int) -> dict[str, dict[str, Any]]:
    """Median ms per mode over ``repeat`` interleaved rounds (after one warm-up round)."""
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    answers: dict[str, dict[str, str]] = {}
    for n in range(repeat + 1):
        for mode in MODES:
            elapsed, status, headers = _call(app, {"$limit": "20", "$count": mode})
            if status != 200:
                raise RuntimeError(f"$count={mode}: {status}")
            answers[mode] = headers
            if n:
                times[mode].append(elapsed)
    return {
        mode: {
            "ms": round(median(times[mode]), 2),
            "strategy": answers[mode]["X-Total-Count-Strategy"],
            "total": answers[mode].get("X-Total-Count"),
        }
        for mode in MODES
    }


def _driver(collection: Any, limit: int, repeat: int) -> dict[str, float]:
    """The bare driver calls behind the modes, in ms."""
    live = {REMOVE_TIME: {"$exists": False}}
    return {
        "count_documents_ms": _timed(lambda: collection.count_documents(live), repeat),
        "count_documents_limit_ms": _timed(
            lambda: collection.count_documents(live, limit=limit + 1), repeat
        ),
        "estimated_document_count_ms": _timed(collection.estimated_document_count, repeat),
    }


def _slow(uri: str, database: str, limit_ms: int) -> dict[str, Any]:
    """The slow list under the default limit and under ``limit_ms``: status and wall time."""
    found: dict[str, Any] = {}
    base = kit_settings(uri, database)
    for name, timeout in (("default", base.mongo.query_timeout_ms), ("tight", limit_ms)):
        settings = dataclasses.replace(
            base, mongo=dataclasses.replace(base.mongo, query_timeout_ms=timeout)
        )
        app = create_sample_app(settings, {"RAINBOND_JSON_LOGS": False})
        try:
            elapsed, status, _ = _call(app, SLOW)
        finally:
            RainbondKit.shutdown(app)
        found[name] = {"limit_ms": timeout, "status": status, "ms": round(elapsed, 1)}
    return found


def run(
    uri: str,
    *,
    sizes: tuple[int, ...] = (1000, 10_000, 100_000),
    repeat: int = 5,
    limit_ms: int = 1000,
    database: str = "bench_count_modes",
) -> dict[str, Any]:
    """Grow ``database.books`` through ``sizes`` and measure at each; returns the figures."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    client.drop_database(database)
    collection = client[database]["books"]
    docs = book_docs(max(sizes))
    app = create_sample_app(kit_settings(uri, database), {"RAINBOND_JSON_LOGS": False})
    count_limit = 1000  # the sample's Books keeps ResourceView's COUNT_LIMIT
    results: dict[str, Any] = {}
    stored = 0
    try:
        for size in sorted(sizes):
            for start in range(stored, size, 1000):
                collection.insert_many(docs[start : min(size, start + 1000)], ordered=False)
            stored = size
            lists = _modes(app, repeat)
            results[str(size)] = {
                "list": lists,
                # what counting adds to the page alone (the none mode)
                "added_by_count_ms": {
                    mode: round(lists[mode]["ms"] - lists["none"]["ms"], 2) for mode in MODES[:3]
                },
                "driver": _driver(collection, count_limit, repeat),
            }
    finally:
        RainbondKit.shutdown(app)
    slow = _slow(uri, database, limit_ms)
    client.drop_database(database)
    client.close()
    return {
        "path": PATH,
        "count_limit": count_limit,
        "repeat": repeat,
        "results": results,
        "slow_query": {"params": SLOW, "documents": max(sizes), **slow},
    }


def report(result: dict[str, Any]) -> None:
    rows = []
    for size, figures in result["results"].items():
        lists, driver = figures["list"], figures["driver"]
        rows.append(
            [
                size,
                *(f"{lists[m]['ms']} ({lists[m]['strategy']})" for m in MODES),
                driver["count_documents_ms"],
                driver["count_documents_limit_ms"],
                driver["estimated_document_count_ms"],
            ]
        )
    print_table(
        f"GET {result['path']}?$limit=20&$count=<mode>: median ms (strategy answered)",
        ["docs", *MODES, "count_documents", f"limit {result['count_limit'] + 1}", "estimated"],
        rows,
    )
    print_table(
        "added by counting: median ms of the mode minus that of $count=none",
        ["docs", *MODES[:3]],
        [[size, *f["added_by_count_ms"].values()] for size, f in result["results"].items()],
    )
    slow = result["slow_query"]
    print_table(
        f"slow list {slow['params']} over {slow['documents']} documents",
        ["limit", "limit_ms", "status", "ms"],
        [[n, slow[n]["limit_ms"], slow[n]["status"], slow[n]["ms"]] for n in ("default", "tight")],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit-ms", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="500 and 2,000 books, no file")
    args = parser.parse_args(argv)
    sizes = (500, 2000) if args.quick else (1000, 10_000, 100_000)
    with mongo_server() as uri:
        result = run(uri, sizes=sizes, repeat=args.repeat, limit_ms=args.limit_ms)
    publish("count_modes", result, report, write=not args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
