"""Actions: app-process CPU of a resource action vs the same work hand-written, and contention.

Run: ``python -m bench.actions`` (``--quick`` for a short run).

1. ``POST /api/v1/products/<id>/reserve`` of the sample order service (auth off): the action
   loads the product (scoped read), takes stock with one conditional ``$inc`` and reads it
   back, serialized through the schema. The hand-written contender is a bare Flask view doing
   the same three pymongo operations and ``jsonify``; ``driver only`` the operations alone.
   Both apps are called through Flask's test client in this process (``time.process_time``:
   this process only, never the database server).
2. Contention: ``threads`` threads reserve one unit each, ``per_thread`` times, from a stock
   smaller than the demand; the stock must end at exactly 0 with exactly ``stock`` successes.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from typing import Any

import pymongo
from bson import ObjectId
from flask import Flask, jsonify
from sample_app import create_app as create_sample_app

from bench._common import kit_settings, measure_interleaved, mongo_server, print_table, publish
from rainbond_kit import RainbondKit

__all__ = ["main", "run"]

BODY = {"quantity": 1}


def _hand_written(uri: str, database: str) -> Flask:
    """The same reservation as a bare Flask + pymongo view."""
    app = Flask("hand")
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    app.extensions["bench_client"] = client
    products = client[database]["products"]

    @app.post("/products/<item_id>/reserve")
    def reserve(item_id: str) -> Any:
        oid = ObjectId(item_id)
        live = {"_id": oid, "remove_time": {"$exists": False}}
        if products.find_one(live) is None:
            return jsonify(message="not found"), 404
        taken = products.update_one({**live, "stock": {"$gte": 1}}, {"$inc": {"stock": -1}})
        if not taken.matched_count:
            return jsonify(message="not enough stock"), 409
        doc = products.find_one(live) or {}
        return jsonify(id=str(doc["_id"]), name=doc["name"], stock=doc["stock"])

    return app


def _contention(app: Flask, product: str, threads: int, per_thread: int) -> dict[str, Any]:
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker() -> None:
        client = app.test_client()
        barrier.wait()
        for _ in range(per_thread):
            answer = client.post(f"/api/v1/products/{product}/reserve", json=BODY)
            with lock:
                statuses.append(answer.status_code)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    seconds = time.perf_counter() - start
    left = app.test_client().get(f"/api/v1/products/{product}").get_json()["stock"]
    return {"statuses": dict(Counter(statuses)), "stock_left": left, "seconds": round(seconds, 3)}


def run(
    uri: str,
    *,
    requests: int = 200,
    rounds: int = 3,
    warmup: int = 20,
    threads: int = 20,
    per_thread: int = 10,
    database: str = "bench_actions",
) -> dict[str, Any]:
    """Measure both parts; returns the figures (see the module docstring)."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    client.drop_database(database)
    kit = create_sample_app(kit_settings(uri, database), {"RAINBOND_JSON_LOGS": False})
    hand = _hand_written(uri, database)
    try:
        kit_client, hand_client = kit.test_client(), hand.test_client()
        big = 10 * (warmup + rounds * requests) + 10
        product = kit_client.post(
            "/api/v1/products", json={"name": "P", "price": 100, "stock": big}
        ).get_json()["id"]
        products = client[database]["products"]
        oid = ObjectId(product)

        def driver_only() -> None:
            products.find_one({"_id": oid})
            products.update_one({"_id": oid, "stock": {"$gte": 1}}, {"$inc": {"stock": -1}})
            products.find_one({"_id": oid})

        def kit_call() -> None:
            kit_client.post(f"/api/v1/products/{product}/reserve", json=BODY)

        def hand_call() -> None:
            hand_client.post(f"/products/{product}/reserve", json=BODY)

        figures = measure_interleaved(
            {
                "rainbond-kit action": kit_call,
                "hand-written": hand_call,
                "driver only": driver_only,
            },
            requests=requests,
            rounds=rounds,
            warmup=warmup,
        )
        stock = threads * per_thread // 2
        scarce = kit_client.post(
            "/api/v1/products", json={"name": "S", "price": 100, "stock": stock}
        ).get_json()["id"]
        contention = _contention(kit, scarce, threads, per_thread)
        client.drop_database(database)
    finally:
        RainbondKit.shutdown(kit)
        hand.extensions["bench_client"].close()
        client.close()
    kit_cpu, hand_cpu = figures["rainbond-kit action"]["cpu_us"], figures["hand-written"]["cpu_us"]
    return {
        "request": "POST /api/v1/products/<id>/reserve {quantity: 1}",
        "params": {"requests": requests, "rounds": rounds, "warmup": warmup},
        "results": figures,
        "ratio": round(kit_cpu / hand_cpu, 3),
        "contention": {"threads": threads, "per_thread": per_thread, "stock": stock, **contention},
    }


def report(result: dict[str, Any]) -> None:
    """Print the tables."""
    rows = [[name, r["cpu_us"], r["rps"]] for name, r in result["results"].items()]
    print_table(
        f"Action overhead ({result['request']})",
        ["contender", "CPU µs/request", "requests/s (serial)"],
        rows,
    )
    print(f"ratio action / hand-written: {result['ratio']:.2f}")
    c = result["contention"]
    print(
        f"contention: {c['threads']} threads x {c['per_thread']} reservations of stock "
        f"{c['stock']}: {c['statuses']}, stock left {c['stock_left']}, {c['seconds']} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per contender per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50 requests x 3 rounds")
    args = parser.parse_args(argv)
    requests = 50 if args.quick else args.requests
    with mongo_server() as uri:
        result = run(uri, requests=requests, rounds=args.rounds)
    publish("actions", result, report, write=not args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
