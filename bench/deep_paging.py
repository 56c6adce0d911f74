"""Deep paging: latency of the first vs the last page, ``$after`` cursors vs ``$offset``.

Run: ``python -m bench.deep_paging`` (``--docs N`` to change the size, ``--quick`` for 2,000).
The sample app serves ``/api/v1/books`` from the same process (WSGI called directly); each
request is timed on the wall clock (server included: deep paging is a database cost).

For each sort (``_id``; ``author`` then ``_id``, a non-unique field with an index) it times
page 1 and the last page with ``$after`` (``$limit=20``, ``$count=none`` so the totals do not
dominate) and the same two pages with ``$offset``. The last page's cursor is the one the page
before it returns, built from the data with :func:`rainbond_kit.query.encode_cursor`; up to
``walk_limit`` books (default 2,000: ``--quick``) the benchmark also walks every page by
following ``next`` and checks each book is seen once (a full walk of 20,000 books is 1,000
requests, too slow on SecantusDB, which scans the collection for every page).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any
from urllib.parse import quote, urlencode

import pymongo
from sample_app import create_app as create_sample_app

from bench._common import (
    WsgiCaller,
    kit_settings,
    median,
    mongo_server,
    print_table,
    publish,
    seed_books,
)
from rainbond_kit import RainbondKit
from rainbond_kit.data.paging import keyset_filter
from rainbond_kit.query import encode_cursor

__all__ = ["main", "run"]

PATH = "/api/v1/books"
LIMIT = 20
SORTS = {"_id": "id asc", "author,_id": "author asc"}


def _call(app: Any, params: dict[str, str]) -> tuple[float, dict[str, Any]]:
    caller = WsgiCaller(app.wsgi_app, PATH, urlencode(params, quote_via=quote))
    start = time.perf_counter()
    body = json.loads(caller())
    return (time.perf_counter() - start) * 1000, body


def _walk(
    app: Any, base: dict[str, str], docs: int, started: float, budget: float
) -> dict[str, Any]:
    """Follow ``next`` cursors from page 1 to the end; check every document is seen once."""
    walk_ms: list[float] = []
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        params = dict(base) if cursor is None else {**base, "$after": cursor}
        elapsed, body = _call(app, params)
        walk_ms.append(elapsed)
        seen.update(item["id"] for item in body["items"])
        if body["next"] is None:
            break
        cursor = body["next"]
        if time.monotonic() - started > budget:
            raise RuntimeError(f"over the {budget}s budget: use fewer --docs")
    if len(seen) != docs:
        raise AssertionError(f"the $after walk saw {len(seen)} of {docs} documents")
    return {
        "pages": len(walk_ms),
        "total_s": round(sum(walk_ms) / 1000, 2),
        "median_page_ms": round(median(walk_ms), 2),
        "first_page_ms": round(walk_ms[0], 2),
        "last_page_ms": round(walk_ms[-1], 2),
    }


def _last_page_cursor(
    collection: pymongo.collection.Collection[dict[str, Any]], name: str, docs: int
) -> str:
    """The ``next`` cursor the page before the last one would return (built from the data)."""
    sort = tuple((field, 1) for field in name.split(","))
    before_last = collection.find_one(sort=list(sort), skip=max(0, docs - LIMIT - 1))
    assert before_last is not None
    return encode_cursor(before_last, sort)


def _interleaved(app: Any, queries: dict[str, dict[str, str]], repeat: int) -> dict[str, float]:
    """Median ms of each query over ``repeat`` interleaved rounds, after one warm-up round."""
    times: dict[str, list[float]] = {name: [] for name in queries}
    for n in range(repeat + 1):
        for name, params in queries.items():
            elapsed = _call(app, params)[0]
            if n:
                times[name].append(elapsed)
    return {name: median(values) for name, values in times.items()}


def _explain(collection: pymongo.collection.Collection[dict[str, Any]], keyset: Any) -> str:
    """What the server says about the keyset query's plan (its ``queryPlanner`` section)."""
    try:
        explained = collection.find(keyset).sort([("author", 1), ("_id", 1)]).limit(21).explain()
    except pymongo.errors.PyMongoError as exc:
        return f"explain not supported: {type(exc).__name__}"
    return json.dumps(explained.get("queryPlanner", explained), default=str)[:600]


def run(
    uri: str,
    *,
    docs: int = 20000,
    repeat: int = 5,
    database: str = "bench_deep_paging",
    time_budget_s: float = 240.0,
    walk_limit: int = 2000,
) -> dict[str, Any]:
    """Seed ``docs`` books (none soft-deleted) and measure; returns the figures."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    results: dict[str, Any] = {}
    started = time.monotonic()
    seed_start = time.perf_counter()
    collection = seed_books(client, database, docs, removed_every=0)
    seed_s = time.perf_counter() - seed_start
    # the app creates the sample's declared indexes at registration; (author, _id) serves
    # the non-unique sort's keyset filter
    app = create_sample_app(kit_settings(uri, database), {"RAINBOND_JSON_LOGS": False})
    collection.create_index([("author", 1), ("_id", 1)], name="author_id")
    try:
        last_offset = max(0, (docs - 1) // LIMIT * LIMIT)
        for name, orderby in SORTS.items():
            base = {"$limit": str(LIMIT), "$orderby": orderby, "$count": "none"}
            walk = _walk(app, base, docs, started, time_budget_s) if docs <= walk_limit else None
            last_params = {**base, "$after": _last_page_cursor(collection, name, docs)}
            _, last_body = _call(app, last_params)
            if last_body["next"] is not None or len(last_body["items"]) != min(LIMIT, docs - 1):
                raise AssertionError(f"{name}: the cursor did not select the last page")
            timings = _interleaved(
                app,
                {
                    "after_first": base,
                    "after_last": last_params,
                    "offset_first": {**base, "$offset": "0"},
                    "offset_last": {**base, "$offset": str(last_offset)},
                },
                repeat,
            )
            first_after, last_after = timings["after_first"], timings["after_last"]
            first_offset, last_offset_ms = timings["offset_first"], timings["offset_last"]
            results[name] = {
                "orderby": orderby,
                "pages": -(-docs // LIMIT),
                "walk": walk,
                "after_first_ms": round(first_after, 2),
                "after_last_ms": round(last_after, 2),
                "after_ratio": round(last_after / first_after, 2),
                "offset_first_ms": round(first_offset, 2),
                "offset_last_ms": round(last_offset_ms, 2),
                "offset_ratio": round(last_offset_ms / first_offset, 2),
            }
        probe = collection.find_one(sort=[("author", 1), ("_id", 1)], skip=docs // 2) or {}
        keyset = keyset_filter((("author", 1), ("_id", 1)), (probe.get("author"), probe.get("_id")))
        plan = _explain(collection, keyset)
        client.drop_database(database)
    finally:
        RainbondKit.shutdown(app)
        client.close()
    return {
        "params": {"docs": docs, "limit": LIMIT, "repeat": repeat},
        "seed_s": round(seed_s, 2),
        "results": results,
        "keyset_plan": plan,
        "target_ratio": 2.0,
    }


def report(result: dict[str, Any]) -> None:
    """Print the results table."""
    rows = [
        [
            name,
            r["pages"],
            r["after_first_ms"],
            r["after_last_ms"],
            r["after_ratio"],
            r["offset_first_ms"],
            r["offset_last_ms"],
            r["offset_ratio"],
        ]
        for name, r in result["results"].items()
    ]
    print_table(
        f"Deep paging ({result['params']['docs']} books, $limit={LIMIT}, median ms per page)",
        [
            "sort",
            "pages",
            "$after p1",
            "$after last",
            "ratio",
            "$offset p1",
            "$offset last",
            "ratio",
        ],
        rows,
    )
    print(f"target: last page via $after within {result['target_ratio']}x of page 1")
    print(f"keyset query plan: {result['keyset_plan']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2,000 books, 3 repeats")
    args = parser.parse_args(argv)
    docs, repeat = (2000, 3) if args.quick else (args.docs, args.repeat)
    with mongo_server() as uri:
        result = run(uri, docs=docs, repeat=repeat)
    publish(f"deep_paging-{docs}", result, report, write=not args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
