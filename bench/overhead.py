"""Framework overhead: app-process CPU per list request, rainbond-kit vs hand-written Flask + pymongo.

Run: ``python -m bench.overhead`` (``--quick`` for a short run). Both apps run in this process
and are called through WSGI directly; ``time.process_time`` counts this process only (Flask,
the app, the pymongo client), never the database server, which is a separate process.

A third row, ``driver only``, issues the same three pymongo operations (find + sort + skip +
limit, and the two counts) with no web framework at all: the floor both apps share. On a VM
part of it is CPU time the kernel charges for waiting on the socket, and it grows with the
server's latency (SecantusDB takes tens of ms per query), so the table also gives each app's
CPU *above* that floor.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

import pymongo
from sample_app import create_app as create_sample_app

from bench import handwritten
from bench._common import (
    WsgiCaller,
    kit_settings,
    measure_interleaved,
    mongo_server,
    print_table,
    publish,
    seed_books,
)
from rainbond_kit import RainbondKit

__all__ = ["PATH", "QUERY", "main", "run"]

PATH = "/api/v1/books"
AUTHOR = "author-007"
#: ``author=author-007&$limit=20&$offset=5&$orderby=title asc``
QUERY = f"author={AUTHOR}&%24limit=20&%24offset=5&%24orderby=title%20asc"


def driver_only(collection: pymongo.collection.Collection[dict[str, Any]]) -> Any:
    """The pymongo work of one request and nothing else (the shared floor)."""
    base = {"author": {"$regex": re.escape(AUTHOR)}}
    live = {**base, "remove_time": {"$exists": False}}

    def call() -> int:
        docs = list(collection.find(live).sort([("title", 1), ("_id", 1)]).skip(5).limit(20))
        collection.count_documents(live)
        collection.count_documents({"remove_time": {"$exists": True}})
        return len(docs)

    return call


def run(
    uri: str,
    *,
    docs: int = 2000,
    requests: int = 300,
    rounds: int = 3,
    warmup: int = 30,
    database: str = "bench_overhead",
) -> dict[str, Any]:
    """Seed ``docs`` books, then measure; returns the figures (see :func:`main`)."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    kit = create_sample_app(kit_settings(uri, database), {"RAINBOND_JSON_LOGS": False})
    hand = handwritten.create_app(uri, database)
    try:
        collection = seed_books(client, database, docs)
        kit_call = WsgiCaller(kit.wsgi_app, PATH, QUERY)
        hand_call = WsgiCaller(hand.wsgi_app, PATH, QUERY)
        kit_body, hand_body = json.loads(kit_call()), json.loads(hand_call())
        for key in ("total", "items", "dummy_remove"):
            if kit_body[key] != hand_body[key]:
                raise AssertionError(f"the two apps disagree on {key!r}")
        figures = measure_interleaved(
            {
                "rainbond-kit": kit_call,
                "hand-written": hand_call,
                "driver only": driver_only(collection),
            },
            requests=requests,
            rounds=rounds,
            warmup=warmup,
        )
        client.drop_database(database)
    finally:
        RainbondKit.shutdown(kit)
        hand.extensions["bench_client"].close()
        client.close()
    kit_cpu = figures["rainbond-kit"]["cpu_us"]
    hand_cpu = figures["hand-written"]["cpu_us"]
    floor = figures["driver only"]["cpu_us"]
    return {
        "request": f"GET {PATH}?author={AUTHOR}&$limit=20&$offset=5&$orderby=title asc",
        "params": {"docs": docs, "requests": requests, "rounds": rounds, "warmup": warmup},
        "matching": {"total": kit_body["total"], "dummy_remove": kit_body["dummy_remove"]},
        "results": figures,
        "ratio": round(kit_cpu / hand_cpu, 3),
        "ratio_above_driver": round((kit_cpu - floor) / max(hand_cpu - floor, 1e-9), 3),
        "target_ratio": 1.3,
    }


def report(result: dict[str, Any]) -> None:
    """Print the results table."""
    floor = result["results"]["driver only"]["cpu_us"]
    rows = [
        [name, r["cpu_us"], r["cpu_us"] - floor if name != "driver only" else 0.0, r["rps"]]
        for name, r in result["results"].items()
    ]
    print_table(
        f"Framework overhead ({result['params']['docs']} books, {result['request']})",
        ["contender", "CPU µs/request", "above driver µs", "requests/s (serial)"],
        rows,
    )
    print(
        f"ratio rainbond-kit / hand-written: {result['ratio']:.2f} (target <= 1.3); "
        f"above the driver floor: {result['ratio_above_driver']:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=300, help="per contender per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 requests x 3 rounds")
    args = parser.parse_args(argv)
    requests = 100 if args.quick else args.requests
    with mongo_server() as uri:
        result = run(uri, docs=args.docs, requests=requests, rounds=args.rounds)
    publish("overhead", result, report, write=not args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
