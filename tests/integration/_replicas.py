"""Two real server processes of the sample app over one database (and Redis): replica A is
``python -m sample_app`` (Werkzeug's threaded server), replica B gunicorn, as in production."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rainbond_kit.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "REDIS_", "MONGO_"))
    }
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{base} did not start")


@contextmanager
def two_replicas(env: dict[str, str], *, threads: int = 4) -> Iterator[tuple[str, str]]:
    """Start both replicas with ``env`` (store variables, switches); yield their base URLs
    once both answer ``/healthz``; stop them on exit."""
    env = {"RAINBOND_AUTH": "off", **env}  # the production entry (gunicorn) fails closed
    port_a, port_b = free_port(), free_port()
    commands = [
        ([sys.executable, "-m", "sample_app"], _env(PORT=str(port_a), **env)),
        (
            [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", str(threads),
             "-b", f"127.0.0.1:{port_b}", "sample_app.wsgi:app"],
            _env(**env),
        ),
    ]  # fmt: skip
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for cmd, e in commands
    ]
    try:
        bases = (f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}")
        for base, proc in zip(bases, procs, strict=True):
            _wait_ready(base, proc)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
