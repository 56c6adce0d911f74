"""Cost of exact decimals in responses and of ``$expand`` (issue 21).

Run: ``python -m bench.money_expand`` (``--quick`` for a short run, ``--write`` to save).

1. Serialization only (no database): a 100-item list body with three ``Decimal`` values per
   item, written by Flask's JSON provider (decimals as strings: the cheapest possible) and by
   ``exact_dumps`` (decimals as JSON numbers with their own digits). CPU µs per body.
2. A page of 50 orders over SecantusDB, each referencing its own customer: the list request
   without ``$expand``, with ``$expand=customer_id`` (one ``$in`` query for the page), and the
   same expansion done naively, one ``find_one`` per order (N+1). Wall-clock ms per request,
   since the queries' round trips are the point.
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal
from typing import Any

import marshmallow as ma
import pymongo
from bson import Decimal128, ObjectId
from flask import Flask
from flask_smorest import Blueprint

from bench._common import (
    WsgiCaller,
    kit_settings,
    measure_interleaved,
    mongo_server,
    print_table,
    publish,
)
from rainbond_kit import RainbondKit, get_api
from rainbond_kit.resource import ResourceView
from rainbond_kit.resource.decimals import exact_dumps

__all__ = ["main", "run"]


class CustomerSchema(ma.Schema):
    name = ma.fields.String(required=True)
    credit = ma.fields.Decimal(required=True)


class Customers(ResourceView):
    COLLECTION = "customers"
    SCHEMA = CustomerSchema


class OrderSchema(ma.Schema):
    customer_id = ma.fields.String(required=True)
    amount = ma.fields.Decimal(required=True)


class Orders(ResourceView):
    COLLECTION = "orders"
    SCHEMA = OrderSchema
    MAX_PAGE_SIZE = 50
    REFERENCES = {"customer_id": Customers}  # noqa: RUF012


def _serialization(app: Flask, requests: int, rounds: int) -> dict[str, Any]:
    body = {
        "items": [
            {"id": str(i), "price": Decimal("12.50"), "tax": Decimal("0.10"), "total": Decimal(i)}
            for i in range(100)
        ]
    }
    with app.app_context():
        provider = app.json

        def dumps(value: Any) -> str:
            return provider.dumps(value, ensure_ascii=False)

        return measure_interleaved(
            {
                "provider (strings)": lambda: dumps(body),
                "exact_dumps": lambda: exact_dumps(dumps, body),
            },
            requests=requests,
            rounds=rounds,
            warmup=20,
        )


def _app(uri: str, database: str) -> Flask:
    app = Flask("bench_money_expand")
    RainbondKit(app, settings=kit_settings(uri, database))
    for cls, prefix in ((Customers, "customers"), (Orders, "orders")):
        blp = Blueprint(prefix, __name__, url_prefix=f"/{prefix}")
        cls.register(blp)
        get_api(app).register_blueprint(blp)
    return app


def run(
    uri: str, *, requests: int = 40, rounds: int = 3, database: str = "bench_expand"
) -> dict[str, Any]:
    """Seed 50 customers and orders, then measure; returns the figures."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri)
    app = _app(uri, database)
    try:
        db = client[database]
        customers = (
            db["customers"]
            .insert_many([{"name": f"c{i}", "credit": Decimal128("100.00")} for i in range(50)])
            .inserted_ids
        )
        db["orders"].insert_many(
            [{"customer_id": str(c), "amount": Decimal128("9.99")} for c in customers]
        )
        plain = WsgiCaller(app.wsgi_app, "/orders", "%24limit=50")
        expanded = WsgiCaller(app.wsgi_app, "/orders", "%24limit=50&%24expand=customer_id")

        def naive() -> None:
            plain()
            for order in db["orders"].find({}).limit(50):
                db["customers"].find_one({"_id": ObjectId(order["customer_id"])})

        pages = measure_interleaved(
            {"list": plain, "list + $expand": expanded, "list + N+1 find_one": naive},
            requests=requests,
            rounds=rounds,
            warmup=5,
            clock=time.perf_counter,
        )
        client.drop_database(database)
        serial = _serialization(app, requests * 10, rounds)
    finally:
        RainbondKit.shutdown(app)
        client.close()
    return {
        "params": {"requests": requests, "rounds": rounds, "orders": 50},
        "serialization_cpu_us": {k: v["cpu_us"] for k, v in serial.items()},
        "page_wall_ms": {k: round(v["cpu_us"] / 1000, 2) for k, v in pages.items()},
    }


def report(result: dict[str, Any]) -> None:
    print_table(
        "100-item body with 3 decimals each",
        ["writer", "CPU µs/body"],
        list(result["serialization_cpu_us"].items()),
    )
    print_table(
        "50 orders, one customer each", ["request", "wall ms"], list(result["page_wall_ms"].items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with mongo_server() as uri:
        result = run(uri, requests=10 if args.quick else 40, rounds=2 if args.quick else 3)
    publish("money_expand", result, report, write=args.write)


if __name__ == "__main__":
    main()
