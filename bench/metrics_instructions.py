"""Metrics cost in instructions: the list request of ``bench.metrics`` under callgrind.

Run: ``python -m bench.metrics_instructions`` (needs ``valgrind``). Time on a shared machine
drifts; instruction counts do not: callgrind counts the same total for the same program and
inputs whatever else the machine runs. For each app of :data:`bench.metrics.APPS` a child
process (under ``valgrind --tool=callgrind``) builds the sample app over one seeded database,
warms up, and serves ``N`` requests; a second child serves none. The difference divided by
``N`` is the instructions of one request, start-up and warm-up cancelled. The database runs
outside valgrind (not counted); pymongo's monitor threads are, so the child sets an hour's
heartbeat interval (a heartbeat during one run and not the other would add to its count).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench._common import kit_settings, mongo_server, print_table, publish, seed_books
from bench.metrics import APPS, OFF, TARGET_PERCENT
from bench.overhead import PATH, QUERY

__all__ = ["main", "run"]

_TOTAL = re.compile(r"^summary:\s+(\d+)", re.M)


def _serve(uri: str, database: str, app_name: str, requests: int, warmup: int) -> None:
    """The child: build one app and serve ``warmup`` + ``requests`` list requests."""
    from sample_app import create_app

    from bench._common import WsgiCaller
    from rainbond_kit import RainbondKit

    # pymongo's monitor threads would add a heartbeat's instructions to whichever run is longer
    quiet = f"{uri}{'&' if '?' in uri else '?'}heartbeatFrequencyMS=3600000"
    config = {"RAINBOND_JSON_LOGS": False, **APPS[app_name]}
    app = create_app(kit_settings(quiet, database), config)
    call = WsgiCaller(app.wsgi_app, PATH, QUERY)
    for _ in range(warmup + requests):
        call()
    RainbondKit.shutdown(app)


def _instructions(uri: str, database: str, app_name: str, requests: int, warmup: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        subprocess.run(
            [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                sys.executable, "-m", "bench.metrics_instructions", "--child",
                uri, database, app_name, str(requests), str(warmup),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        found = _TOTAL.search(out.read_text(errors="replace"))
    if found is None:
        raise RuntimeError("callgrind wrote no summary")
    return int(found.group(1))


def run(uri: str, *, docs: int = 2000, requests: int = 100, warmup: int = 20) -> dict[str, Any]:
    """Seed ``docs`` books, then count each app's instructions per list request."""
    import pymongo

    database = "bench_metrics_instructions"
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    try:
        seed_books(client, database, docs)
        per_request = {
            name: (
                _instructions(uri, database, name, requests, warmup)
                - _instructions(uri, database, name, 0, warmup)
            )
            / requests
            for name in APPS
        }
        client.drop_database(database)
    finally:
        client.close()
    off = per_request[OFF]
    return {
        "request": f"GET {PATH}?{QUERY}",
        "params": {"docs": docs, "requests": requests, "warmup": warmup},
        "instructions_per_request": {name: round(value) for name, value in per_request.items()},
        "cost_percent": {
            name: round((value - off) / off * 100, 2)
            for name, value in per_request.items()
            if name != OFF
        },
        "target_percent": TARGET_PERCENT,
    }


def report(result: dict[str, Any]) -> None:
    """Print the results table."""
    counts = result["instructions_per_request"]
    costs = result["cost_percent"]
    rows = [[name, counts[name], costs.get(name, "")] for name in counts]
    print_table(
        f"Metrics cost in instructions ({result['params']['docs']} books, {result['request']})",
        ["app", "instructions/request", "cost vs off, %"],
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--child":
        uri, database, app_name, requests, warmup = args[1:]
        _serve(uri, database, app_name, int(requests), int(warmup))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="10 requests, not written")
    parsed = parser.parse_args(args)
    requests = 10 if parsed.quick else parsed.requests
    with mongo_server() as uri:
        result = run(uri, docs=parsed.docs, requests=requests)
    publish("metrics_instructions", result, report, write=not parsed.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
