"""Side by side: rainbond-kit vs hand-written Flask + pymongo vs Eve, same data, same server.

Run: ``python -m bench.side_by_side`` (Eve comes with ``pip install -e '.[bench]'``; without
it Eve's rows are left out). ``--quick`` for a short run.

1. In-process: app-process CPU µs per request (WSGI called directly, ``time.process_time``),
   interleaved rounds; the request is page 2 of 20 books by one author sorted by title:
   ``author=author-007&$limit=20&$offset=20&$orderby=title asc`` (Eve: ``where`` with the
   same escaped regex, ``sort=title,_id&max_results=20&page=2``).
2. Real server: each app under gunicorn (2 sync workers, 127.0.0.1), a fixed-duration load
   from client threads; requests/s, median and p95 latency, and the workers' CPU per request
   (from ``/proc``). The database server is usually the bottleneck here.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
from sample_app import create_app as create_sample_app

from bench import eve_app, handwritten
from bench._common import (
    WsgiCaller,
    kit_settings,
    measure_interleaved,
    median,
    mongo_server,
    print_table,
    seed_books,
    write_result,
)
from rainbond_kit import RainbondKit
from rainbond_kit.embedded import free_port

__all__ = ["main", "run", "run_gunicorn"]

PATH = "/api/v1/books"
AUTHOR = "author-007"
KIT_QUERY = f"author={AUTHOR}&%24limit=20&%24offset=20&%24orderby=title%20asc"
EVE_QUERY = eve_app.eve_query(AUTHOR, limit=20, page=2)
QUERIES = {"rainbond-kit": KIT_QUERY, "hand-written": KIT_QUERY, "eve": EVE_QUERY}
KINDS = {"rainbond-kit": "kit", "hand-written": "handwritten", "eve": "eve"}


def have_eve() -> bool:
    return importlib.util.find_spec("eve") is not None


def _ids(body: dict[str, Any]) -> tuple[int, list[str]]:
    if "_items" in body:  # Eve
        return body["_meta"]["total"], [item["_id"] for item in body["_items"]]
    return body["total"], [item["id"] for item in body["items"]]


def run(
    uri: str,
    *,
    docs: int = 2000,
    requests: int = 200,
    rounds: int = 3,
    warmup: int = 20,
    database: str = "bench_side_by_side",
    seed: bool = True,
) -> dict[str, Any]:
    """In-process CPU per request of the three apps (Eve only if installed)."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    if seed:
        seed_books(client, database, docs)
    apps: dict[str, Any] = {}
    try:
        apps["rainbond-kit"] = create_sample_app(
            kit_settings(uri, database), {"RAINBOND_JSON_LOGS": False}
        )
        apps["hand-written"] = handwritten.create_app(uri, database)
        if have_eve():
            apps["eve"] = eve_app.create_app(uri, database)
        callers = {
            name: WsgiCaller(app.wsgi_app, PATH, QUERIES[name]) for name, app in apps.items()
        }
        answers = {name: _ids(json.loads(call())) for name, call in callers.items()}
        if len(set(map(repr, answers.values()))) != 1:
            raise AssertionError(f"the apps disagree: {answers}")
        figures = measure_interleaved(callers, requests=requests, rounds=rounds, warmup=warmup)
    finally:
        _close(apps)
        client.close()
    total, ids = answers["rainbond-kit"]
    return {
        "params": {"docs": docs, "requests": requests, "rounds": rounds, "warmup": warmup},
        "queries": QUERIES,
        "matching": {"total": total, "page_items": len(ids)},
        "results": figures,
    }


def _close(apps: dict[str, Any]) -> None:
    for name, app in apps.items():
        if name == "rainbond-kit":
            RainbondKit.shutdown(app)
        elif name == "hand-written":
            app.extensions["bench_client"].close()
        else:  # Eve keeps (client, db) per config prefix
            for mongo_client, _ in app.extensions.get("pymongo", {}).values():
                mongo_client.close()


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


@contextlib.contextmanager
def _gunicorn(kind: str, uri: str, database: str, workers: int) -> Iterator[tuple[int, list[int]]]:
    port = free_port()
    env = {**os.environ, "BENCH_MONGODB_URI": uri, "BENCH_DATABASE": database}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", f"bench.wsgi:create('{kind}')"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn {kind} exited: {proc.stderr.read()[-800:]!r}")  # type: ignore[union-attr]
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/healthz" if kind == "kit" else "/")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        workers_pids: list[int] = []
        while len(workers_pids) < workers and time.monotonic() < deadline:
            workers_pids = _children(proc.pid)
            time.sleep(0.1)
        yield port, [proc.pid, *workers_pids]
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def _load(port: int, target: str, threads: int, duration: float) -> tuple[int, int, list[float]]:
    ok, failed, latencies = [0], [0], []
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def worker() -> None:
        while time.monotonic() < stop:
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", target)
                response = conn.getresponse()
                response.read()
                conn.close()
                good = response.status == 200
            except OSError:
                good = False
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                if good:
                    ok[0] += 1
                    latencies.append(elapsed)
                else:
                    failed[0] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return ok[0], failed[0], latencies


def run_gunicorn(
    uri: str,
    *,
    database: str = "bench_side_by_side",
    duration: float = 10.0,
    threads: int = 4,
    workers: int = 2,
) -> dict[str, Any]:
    """Requests/s of each app under gunicorn (the data must be seeded already)."""
    results: dict[str, Any] = {}
    for name in QUERIES:
        if name == "eve" and not have_eve():
            continue
        with _gunicorn(KINDS[name], uri, database, workers) as (port, pids):
            target = f"{PATH}?{QUERIES[name]}"
            _load(port, target, threads, min(2.0, duration / 5))  # warm-up
            cpu0 = _cpu_seconds(pids)
            wall0 = time.perf_counter()
            ok, failed, latencies = _load(port, target, threads, duration)
            wall = time.perf_counter() - wall0
            cpu = _cpu_seconds(pids) - cpu0
        latencies.sort()
        results[name] = {
            "requests": ok,
            "errors": failed,
            "rps": round(ok / wall, 2),
            "latency_median_ms": round(median(latencies), 1) if latencies else None,
            "latency_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1)
            if latencies
            else None,
            "server_cpu_us": round(cpu / ok * 1e6) if ok else None,
        }
    return {
        "params": {"duration_s": duration, "client_threads": threads, "workers": workers},
        "results": results,
    }


def report(result: dict[str, Any]) -> None:
    """Print the two tables."""
    inproc = result["in_process"]["results"]
    base = inproc["hand-written"]["cpu_us"]
    print_table(
        f"Side by side, in-process ({result['in_process']['params']['docs']} books, page 2 of 20)",
        ["app", "CPU µs/request", "vs hand-written", "requests/s (serial)"],
        [[n, r["cpu_us"], r["cpu_us"] / base, r["rps"]] for n, r in inproc.items()],
    )
    served = result["gunicorn"]["results"]
    print_table(
        f"Side by side, gunicorn {result['gunicorn']['params']['workers']} workers, "
        f"{result['gunicorn']['params']['client_threads']} client threads, "
        f"{result['gunicorn']['params']['duration_s']:.0f} s each",
        ["app", "requests/s", "median ms", "p95 ms", "worker CPU µs/req", "errors"],
        [
            [
                n,
                r["rps"],
                r["latency_median_ms"],
                r["latency_p95_ms"],
                r["server_cpu_us"],
                r["errors"],
            ]
            for n, r in served.items()
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200, help="per app per round")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per app")
    parser.add_argument("--quick", action="store_true", help="50 requests, 3 s of load")
    args = parser.parse_args(argv)
    requests, duration = (50, 3.0) if args.quick else (args.requests, args.duration)
    with mongo_server() as uri:
        in_process = run(uri, docs=args.docs, requests=requests)
        served = run_gunicorn(uri, duration=duration)
    result = {"in_process": in_process, "gunicorn": served}
    inproc = in_process["results"]
    result["ratio_kit_vs_handwritten"] = round(
        inproc["rainbond-kit"]["cpu_us"] / inproc["hand-written"]["cpu_us"], 3
    )
    if "eve" in inproc:
        result["ratio_kit_vs_eve"] = round(
            inproc["rainbond-kit"]["cpu_us"] / inproc["eve"]["cpu_us"], 3
        )
    report(result)
    print(
        f"rainbond-kit / hand-written CPU: {result['ratio_kit_vs_handwritten']:.2f} (target <= 1.3)"
        + (
            f"; rainbond-kit / Eve: {result['ratio_kit_vs_eve']:.2f} (target < 1)"
            if "eve" in inproc
            else ""
        )
    )
    if not args.quick:
        print(f"written: {write_result('side_by_side', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
