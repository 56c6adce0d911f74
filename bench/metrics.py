"""Metrics cost: serving-thread CPU per list request with ``/metrics`` on vs off.

Run: ``python -m bench.metrics`` (``--quick`` for a short run). Two copies of the sample app
(``RAINBOND_METRICS`` on and off) answer the same list request through WSGI directly, in
interleaved rounds. ``time.thread_time`` counts the serving thread only: not pymongo's monitor
threads (both apps have them) nor the database (a separate process). "On" pays for the request
counter, latency histogram and in-flight gauge, and the MongoDB command listener; a third app
adds the opt-in pool listener (``RAINBOND_METRICS_MONGO_POOL``). A fourth has the HTTP metrics
and a command listener that does nothing: what pymongo's command monitoring costs by itself
(building and publishing two events per command), the floor of any per-command metric built on
it.
Target: the difference is under 5 % of the list request's CPU.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from pymongo import monitoring
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
from rainbond_kit import RainbondKit, get_container

__all__ = ["main", "run", "run_http_only"]

TARGET_PERCENT = 5.0


class _NoCommandWork(monitoring.CommandListener):
    """A command listener that does nothing: pymongo still builds and publishes its events."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def run(
    uri: str,
    *,
    docs: int = 2000,
    requests: int = 60,
    rounds: int = 15,
    warmup: int = 30,
    database: str = "bench_metrics",
) -> dict[str, Any]:
    """Seed ``docs`` books, then measure both apps; returns the figures (see :func:`main`)."""
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    settings = kit_settings(uri, database)
    apps = {
        "metrics on": create_sample_app(
            settings, {"RAINBOND_JSON_LOGS": False, "RAINBOND_METRICS": True}
        ),
        "metrics off": create_sample_app(
            settings, {"RAINBOND_JSON_LOGS": False, "RAINBOND_METRICS": False}
        ),
    }
    # opt-in: RAINBOND_METRICS_MONGO_POOL adds the pool listener
    apps["metrics on + pool"] = create_sample_app(
        settings,
        {
            "RAINBOND_JSON_LOGS": False,
            "RAINBOND_METRICS": True,
            "RAINBOND_METRICS_MONGO_POOL": True,
        },
    )
    floor = create_sample_app(settings, {"RAINBOND_JSON_LOGS": False, "RAINBOND_METRICS": True})
    # the client is built on first use: swap the kit's command listener for one doing nothing
    get_container(floor).mongo_client.add_kwargs(event_listeners=[_NoCommandWork()])
    apps["metrics on, no-op command listener"] = floor
    try:
        seed_books(client, database, docs)
        callers = {name: WsgiCaller(app.wsgi_app, PATH, QUERY) for name, app in apps.items()}
        totals = {json.loads(call())["total"] for call in callers.values()}
        if len(totals) != 1:
            raise AssertionError(f"the two apps disagree: {totals}")
        figures = measure_interleaved(
            callers, requests=requests, rounds=rounds, warmup=warmup, clock=time.thread_time
        )
        client.drop_database(database)
    finally:
        for app in apps.values():
            RainbondKit.shutdown(app)
        client.close()
    # Paired by round (the two apps run back to back), so drift in the machine's load cancels.
    pairs = zip(
        figures["metrics on"]["rounds_cpu_us"], figures["metrics off"]["rounds_cpu_us"], strict=True
    )
    cost = median([on_round - off_round for on_round, off_round in pairs])
    off = figures["metrics off"]["cpu_us"]
    with_pool = zip(
        figures["metrics on + pool"]["rounds_cpu_us"],
        figures["metrics off"]["rounds_cpu_us"],
        strict=True,
    )
    cost_pool = median([a - b for a, b in with_pool])
    with_floor = zip(
        figures["metrics on, no-op command listener"]["rounds_cpu_us"],
        figures["metrics off"]["rounds_cpu_us"],
        strict=True,
    )
    cost_floor = median([a - b for a, b in with_floor])
    return {
        "request": f"GET {PATH}?{QUERY}",
        "params": {"docs": docs, "requests": requests, "rounds": rounds, "warmup": warmup},
        "results": figures,
        "cost_us": round(cost, 1),
        "cost_percent": round(cost / off * 100, 2),
        "cost_with_pool_us": round(cost_pool, 1),
        "cost_with_pool_percent": round(cost_pool / off * 100, 2),
        "cost_pymongo_monitoring_floor_us": round(cost_floor, 1),
        "cost_pymongo_monitoring_floor_percent": round(cost_floor / off * 100, 2),
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
        f"metrics cost (median of per-round differences): {result['cost_us']} µs = {result['cost_percent']:.2f} % of a list "
        f"request (target < {TARGET_PERCENT:.0f} %); with the opt-in pool listener: "
        f"{result['cost_with_pool_us']} µs = {result['cost_with_pool_percent']:.2f} %; HTTP metrics "
        "with a no-op command listener (pymongo's monitoring alone): "
        f"{result['cost_pymongo_monitoring_floor_us']} µs = "
        f"{result['cost_pymongo_monitoring_floor_percent']:.2f} %"
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
