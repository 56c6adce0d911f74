"""Helpers for the deploy tests: a scaffolded component, clean environments, waiting for HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from rainbond_kit import __version__
from rainbond_kit.scaffold import create_component

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: variables that would point a child process at other servers or change its port
_DROP = ("MONGODB_", "MONGO_", "REDIS_", "RAINBOND_", "PORT", "_PORT", "WEB_CONCURRENCY", "PYTEST_")
_AUTH = {"SECRET_KEY", "REDIS_DB_PERMISSION", "ADMIN_USER", "EXPIRATION"}


def clean_env(**extra: str) -> dict[str, str]:
    """This environment minus server, port and auth variables, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_DROP) and k not in _AUTH and k not in {"VIRTUAL_ENV", "PYTHONHOME"}
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)  # sample_app
    env.update(extra)
    return env


def component(parent: Path, name: str = "demo") -> Path:
    """A scaffolded component that uses this interpreter's rainbond-kit (no vendored wheel)."""
    return create_component(name, parent, kit_requirement=f"rainbond-kit=={__version__}")


def procfile_web(project: Path) -> str:
    """The Procfile's ``web:`` command."""
    (web,) = [
        line.removeprefix("web:").strip()
        for line in (project / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    ]
    return web


def web_argv(project: Path) -> list[str]:
    """The Procfile's ``web:`` command as a platform runs it: under a shell, ``exec``-ed."""
    return ["/bin/sh", "-c", f"exec {procfile_web(project)}"]


def start_web(project: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start the Procfile's ``web:`` command in ``project`` with ``env`` (output piped)."""
    return subprocess.Popen(
        web_argv(project),
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_healthy(proc: subprocess.Popen[str], url: str, timeout: float = 60) -> bool:
    """Poll ``url`` until it answers 200 or the process exits."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False
