"""The sample app under a real gunicorn master (subprocess), for tests that need workers,
``--preload`` or the master's pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

from rainbond_kit.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (a gunicorn master's workers)."""
    return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())


@contextmanager
def gunicorn(
    env: Mapping[str, str], *, workers: int, options: Sequence[str] = ()
) -> Iterator[tuple[str, int]]:
    """``gunicorn [options] -w workers sample_app.wsgi:app`` on a free loopback port with
    ``env`` over this process's environment (auth off unless ``env`` says otherwise); yield
    its URL and master pid once ``/readyz`` answers 200 and every worker is up; SIGTERM on
    exit."""
    port = free_port()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "RAINBOND_AUTH": "off", **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *options, "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "sample_app.wsgi:app"],
        cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not become ready"
            try:
                ready = requests.get(f"{url}/readyz", timeout=15).status_code == 200
                if ready and len(children(process.pid)) == workers:
                    break
            except (requests.ConnectionError, requests.Timeout):  # workers still booting
                pass
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
