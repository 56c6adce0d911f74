"""Rainbond 6 injects ``_PORT`` only: both entry points serve on it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rainbond_kit.embedded import free_port

from .deploy_support import ROOT, clean_env, component, wait_healthy, web_argv

pytestmark = pytest.mark.slow


def _serve(command: list[str], cwd: Path, env: dict[str, str], port: int) -> str:
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        healthy = wait_healthy(proc, f"http://127.0.0.1:{port}/healthz")
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=40)
    assert healthy, stderr[-3000:]
    return stderr


def test_python_m_sample_app_serves_on_underscore_port(mongo_uri: str, mongo_db_name: str) -> None:
    """`_PORT=<port> python -m sample_app` (no PORT) serves /healthz on that port."""
    port = free_port()
    env = clean_env(_PORT=str(port), MONGODB_URI=mongo_uri, MONGODB_DB=mongo_db_name)
    assert "PORT" not in env
    _serve(["python", "-m", "sample_app"], ROOT, env, port)


def test_procfile_command_serves_on_underscore_port(
    tmp_path: Path, mongo_uri: str, mongo_db_name: str
) -> None:
    """The scaffold's Procfile command with only `_PORT` set binds it (gunicorn says so)."""
    project = component(tmp_path)
    port = free_port()
    env = clean_env(_PORT=str(port), MONGODB_URI=mongo_uri, MONGODB_DB=mongo_db_name)
    stderr = _serve(web_argv(project), project, env, port)
    assert f"Listening at: http://0.0.0.0:{port}" in stderr
