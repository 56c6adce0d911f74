"""Metrics cost: serving-thread CPU per list request with ``/metrics`` on vs off.

Run: ``python -m bench.metrics`` (``--quick`` for a short run). Copies of the sample app answer
the same list request through WSGI directly, in interleaved rounds. ``time.thread_time``
counts the serving thread only: not pymongo's monitor threads (all apps have them) nor the
database (a separate process). "metrics on" is the default: the request counter, latency
histogram and in-flight gauge, and the repository's own timing of its MongoDB operations. Two
more apps add the opt-in pymongo listeners: command monitoring
(``RAINBOND_METRICS_MONGO_COMMANDS``), then the pool gauges too
(``RAINBOND_METRICS_MONGO_POOL``).
Target: the default's difference is under 5 % of the list request's CPU.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from sample_app import create_app as create_sample_app

from bench._common import (
    WsgiCaller,
    kit_settings,
    measure_interleaved,
    median,
    mongo_server,
    print_table,
    publish,
    seed_books,
    write_result,
)
from bench.overhead import PATH, QUERY
from rainbond_kit import RainbondKit

__all__ = ["main", "run", "run_http_only"]

TARGET_PERCENT = 5.0
OFF = "metrics off"
ON = "metrics on"
COMMANDS = "metrics on + command monitoring"
POOL = "metrics on + command monitoring + pool"
#: app name -> its metrics settings
APPS: dict[str, dict[str, bool]] = {
    OFF: {"RAINBOND_METRICS": False},
    ON: {"RAINBOND_METRICS": True},
    COMMANDS: {"RAINBOND_METRICS": True, "RAINBOND_METRICS_MONGO_COMMANDS": True},
    POOL: {
        "RAINBOND_METRICS": True,
        "RAINBOND_METRICS_MONGO_COMMANDS": True,
        "RAINBOND_METRICS_MONGO_POOL": True,
    },
}


def _cost(figures: dict[str, Any], name: str) -> float:
    """Median of the per-round differences with the metrics-off app (paired by round, so drift
    in the machine's load cancels)."""
    pairs = zip(figures[name]["rounds_cpu_us"], figures[OFF]["rounds_cpu_us"], strict=True)
    return median([on_round - off_round for on_round, off_round in pairs])


def run(
    uri: str,
    *,
    docs: int = 2000,
    requests: int = 60,
    rounds: int = 15,
    warmup: int = 30,
    database: str = "bench_metrics",
) -> dict[str, Any]:
    """Seed ``docs`` books, then measure every app; returns the figures (see :func:`main`)."""
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    settings = kit_settings(uri, database)
    apps = {
        name: create_sample_app(settings, {"RAINBOND_JSON_LOGS": False, **config})
        for name, config in APPS.items()
    }
    try:
        seed_books(client, database, docs)
        callers = {name: WsgiCaller(app.wsgi_app, PATH, QUERY) for name, app in apps.items()}
        totals = {json.loads(call())["total"] for call in callers.values()}
        if len(totals) != 1:
            raise AssertionError(f"the apps disagree: {totals}")
        figures = measure_interleaved(
            callers, requests=requests, rounds=rounds, warmup=warmup, clock=time.thread_time
        )
        client.drop_database(database)
    finally:
        for app in apps.values():
            RainbondKit.shutdown(app)
        client.close()
    off = figures[OFF]["cpu_us"]
    costs = {name: _cost(figures, name) for name in (ON, COMMANDS, POOL)}
    return {
        "request": f"GET {PATH}?{QUERY}",
        "params": {"docs": docs, "requests": requests, "rounds": rounds, "warmup": warmup},
        "results": figures,
        "cost_us": round(costs[ON], 1),
        "cost_percent": round(costs[ON] / off * 100, 2),
        "cost_with_commands_us": round(costs[COMMANDS], 1),
        "cost_with_commands_percent": round(costs[COMMANDS] / off * 100, 2),
        "cost_with_pool_us": round(costs[POOL], 1),
        "cost_with_pool_percent": round(costs[POOL] / off * 100, 2),
        "target_percent": TARGET_PERCENT,
    }


def run_http_only(*, requests: int = 3000, rounds: int = 6, warmup: int = 200) -> dict[str, Any]:
    """The HTTP metrics alone: a route with no database work, metrics on vs off."""
    from flask import Flask, jsonify

    apps: dict[str, Flask] = {}
    for name, enabled in (("metrics on", True), ("metrics off", False)):
        app = Flask(name.replace(" ", "_"))
        app.config.update(RAINBOND_JSON_LOGS=False, RAINBOND_METRICS=enabled)
        RainbondKit(app, settings=kit_settings("mongodb://127.0.0.1:1/", "unused"))
        app.add_url_rule("/numbers/<int:n>", "number", lambda n: jsonify(n=n))
        apps[name] = app
    callers = {name: WsgiCaller(app.wsgi_app, "/numbers/5", "") for name, app in apps.items()}
    figures = measure_interleaved(
        callers, requests=requests, rounds=rounds, warmup=warmup, clock=time.thread_time
    )
    for app in apps.values():
        RainbondKit.shutdown(app)
    pairs = zip(
        figures["metrics on"]["rounds_cpu_us"], figures["metrics off"]["rounds_cpu_us"], strict=True
    )
    return {
        "request": "GET /numbers/5 (no database work)",
        "params": {"requests": requests, "rounds": rounds, "warmup": warmup},
        "results": figures,
        "cost_us": round(median([on - off for on, off in pairs]), 1),
    }


def report(result: dict[str, Any]) -> None:
    """Print the results table."""
    rows = [[name, r["cpu_us"], r["rps"]] for name, r in result["results"].items()]
    print_table(
        f"Metrics cost ({result['params']['docs']} books, {result['request']})",
        ["app", "CPU µs/request", "requests/s (serial)"],
        rows,
    )
    print(
        f"metrics cost (median of per-round differences): {result['cost_us']} µs = "
        f"{result['cost_percent']:.2f} % of a list request (target < {TARGET_PERCENT:.0f} %); "
        f"with pymongo's command monitoring: {result['cost_with_commands_us']} µs = "
        f"{result['cost_with_commands_percent']:.2f} %; with the pool gauges too: "
        f"{result['cost_with_pool_us']} µs = {result['cost_with_pool_percent']:.2f} %"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=60, help="per app per round")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="20 requests x 5 rounds")
    parser.add_argument(
        "--http-only", action="store_true", help="the HTTP metrics alone, no database (seconds)"
    )
    args = parser.parse_args(argv)
    if args.http_only:
        http = run_http_only(requests=300 if args.quick else 3000)
        print(f"HTTP metrics alone: {http['cost_us']} µs per request ({http['request']})")
        if not args.quick:
            print(f"written: {write_result('metrics-http', http)}")
        return 0
    requests, rounds = (20, 5) if args.quick else (args.requests, args.rounds)
    with mongo_server() as uri:
        result = run(uri, docs=args.docs, requests=requests, rounds=rounds)
    publish("metrics", result, report, write=not args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
