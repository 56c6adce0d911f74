"""``python -m sample_app`` as a real process: config errors, embedded default, serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from rainbond_kit.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "REDIS_", "MONGO_"))
    }
    env.update(extra)
    return env


def test_malformed_port_exits_naming_the_variable() -> None:
    """MONGODB_PORT=abc stops start-up with an error that names MONGODB_PORT, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "sample_app"],
        cwd=ROOT,
        env=_env(MONGODB_PORT="abc", MONGODB_HOST="h"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "MONGODB_PORT must be a port number (1-65535), got 'abc'" in result.stderr
    assert "Traceback" not in result.stderr


def test_embedded_default_serves_and_stops_its_mongo(tmp_path: Path, redis_url: str) -> None:
    """With no MongoDB configured, the sample app starts SecantusDB, serves, and stops it on exit."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sample_app"],
        cwd=tmp_path,
        env=_env(PORT=str(port), REDIS_URL=redis_url, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                    body = json.load(r)
            except OSError:
                time.sleep(0.3)
        assert body is not None
        assert set(body.pop("indexes")) <= {"pending", "built"}  # built in the background
        assert body == {"status": "ok", "checks": {"mongodb": "ok", "redis": "ok"}}
        assert (tmp_path / ".rainbond-kit" / "mongo-data").is_dir()
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert "embedded MongoDB (SecantusDB)" in stderr
    assert "production needs a real MongoDB" in stderr


def test_seed_command_fills_a_running_service(
    tmp_path: Path, redis_url: str, mongo_uri: str
) -> None:
    """python -m sample_app.seed creates books through the API of a running service."""
    import uuid

    port = free_port()
    db = f"seed_{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sample_app"], cwd=ROOT,
        env=_env(PORT=str(port), REDIS_URL=redis_url, MONGODB_URI=mongo_uri, MONGODB_DB=db),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        result = subprocess.run(
            [sys.executable, "-m", "sample_app.seed", "--url", f"http://127.0.0.1:{port}", "--count", "12"],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v1/books?$limit=1", timeout=5
        ) as r:
            assert json.load(r)["total"] == 12
    finally:
        proc.terminate()
        proc.wait(timeout=30)
