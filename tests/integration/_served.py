"""Serve an app on a real threaded server and drive it from client threads (bounded)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """Serve ``app`` with werkzeug's threaded server on a free loopback port; yield its URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@dataclass(frozen=True)
class Call:
    """One client request: when it started (monotonic), how long it took, what came back."""

    started: float
    latency: float
    status: int
    body: Any


def timed(session: requests.Session, method: str, url: str, **kwargs: Any) -> Call:
    """Send one request with a hard client timeout; a timeout is recorded as status 0."""
    started = time.monotonic()
    try:
        response = session.request(method, url, timeout=30, **kwargs)
    except requests.RequestException as exc:
        return Call(started, time.monotonic() - started, 0, repr(exc))
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return Call(started, time.monotonic() - started, response.status_code, body)


def load(
    workers: int,
    until: Callable[[], bool],
    step: Callable[[requests.Session, int], Call],
    calls: list[Call] | None = None,
) -> list[Call]:
    """Run ``step(session, worker)`` in ``workers`` threads until ``until()``.

    Each call is appended to ``calls`` as it completes (so others can watch); returns it.
    """
    calls = [] if calls is None else calls
    lock = threading.Lock()

    def run(worker: int) -> None:
        with requests.Session() as session:
            while not until():
                call = step(session, worker)
                with lock:
                    calls.append(call)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return calls


@contextmanager
def background_load(
    workers: int, step: Callable[[requests.Session, int], Call]
) -> Iterator[list[Call]]:
    """Run :func:`load` in the background for the ``with`` block; yield its live call list."""
    stop = threading.Event()
    calls: list[Call] = []
    runner = threading.Thread(target=load, args=(workers, stop.is_set, step, calls), daemon=True)
    runner.start()
    try:
        yield calls
    finally:
        stop.set()
        runner.join(60)
