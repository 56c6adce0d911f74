"""Every misconfiguration in docs/deploy.md's table: one stderr line, exit code 2, no traceback.

Run through the production path (the scaffold's Procfile command: gunicorn with its
``gunicorn.conf.py``; the sample app under ``gunicorn --preload``), with two workers so a
per-worker message would show twice.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rainbond_kit.embedded import free_port

from .deploy_support import ROOT, clean_env, component, wait_healthy, web_argv

pytestmark = pytest.mark.slow

MONGO = {"MONGODB_URI": "mongodb://127.0.0.1:1/"}  # well-formed; never contacted
AUTH = {
    "SECRET_KEY": "s3cret",
    "REDIS_DB_PERMISSION": "3",
    "MONGODB_DB_NAME": "auth",
    "MONGODB_PERMISSIONSET": "sys_permissionset",
    "MONGODB_ROLE": "sys_role",
    "MONGODB_USER": "sys_user",
}

#: (id, variables, the one line on stderr); docs/deploy.md's table lists the same lines
COMPONENT_CASES = [
    ("bad _PORT", {"_PORT": "http"}, "_PORT must be a port number (1-65535), got 'http'"),
    ("bad PORT", {"PORT": "70000"}, "PORT must be a port number (1-65535), got 70000"),
    (
        "bad MONGODB_PORT",
        {"MONGODB_HOST": "db", "MONGODB_PORT": "abc"},
        "MONGODB_PORT must be a port number (1-65535), got 'abc'",
    ),
    (
        "user without password",
        {"MONGODB_HOST": "db", "MONGODB_USER": "admin"},
        "MONGODB_USER is set but no password is: set MONGODB_PASSWORD (or MONGODB_PASS),"
        " or unset MONGODB_USER",
    ),
    (
        "bad MONGODB_URI",
        {"MONGODB_URI": "postgres://db/"},
        "MONGODB_URI is not a valid MongoDB URI: Invalid URI scheme: URI must begin with"
        " 'mongodb://' or 'mongodb+srv://'",
    ),
    (
        "invalid MONGODB_DB",
        {**MONGO, "MONGODB_DB": "orders.v2"},
        "MONGODB_DB is not a valid database name (contains '.'): 'orders.v2'",
    ),
    (
        "REDIS_URL without scheme",
        {**MONGO, "REDIS_URL": "localhost:6379"},
        "REDIS_URL must be a URL starting with redis://, rediss:// or unix://"
        " (e.g. redis://host:6379/0), got 'localhost:6379'",
    ),
    (
        "no MongoDB",
        {},
        "no MongoDB is configured: set MONGODB_URI, or MONGODB_HOST and MONGODB_PORT (a Rainbond"
        " dependency whose port alias is MONGODB injects them); the embedded development"
        " MongoDB only runs with `python app.py`",
    ),
    (
        "bad trusted proxies",
        {**MONGO, "RAINBOND_TRUSTED_PROXIES": "gateway"},
        "RAINBOND_TRUSTED_PROXIES must be the number of proxies in front (0, or 1 behind"
        " Rainbond's gateway), got 'gateway'",
    ),
    ("bad WEB_CONCURRENCY", {"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY must be at least 1, got 0"),
]
SAMPLE_CASES = [
    (
        "incomplete auth",
        {**MONGO, "SECRET_KEY": "s3cret"},
        "auth is incomplete: SECRET_KEY set but REDIS_DB_PERMISSION, MONGODB_DB_NAME,"
        " MONGODB_PERMISSION, MONGODB_PERMISSIONSET, MONGODB_ROLE, MONGODB_USER not (set them,"
        " or RAINBOND_AUTH=off to run without auth)",
    ),
    (
        "misspelt auth variable",
        {**MONGO, **AUTH, "MONGODB_PERMISSIONS": "sys_permission"},
        "MONGODB_PERMISSIONS is not an auth variable: did you mean MONGODB_PERMISSION? (auth"
        " stays closed until it is fixed; RAINBOND_AUTH=off turns auth off)",
    ),
    (
        "auth not decided",
        dict(MONGO),
        "auth is not configured: set the auth-center variables (SECRET_KEY, REDIS_DB_PERMISSION,"
        " MONGODB_DB_NAME, MONGODB_PERMISSION, MONGODB_PERMISSIONSET, MONGODB_ROLE,"
        " MONGODB_USER) or RAINBOND_AUTH=off",
    ),
    (
        "bad RAINBOND_AUTH",
        {**MONGO, "RAINBOND_AUTH": "maybe"},
        "RAINBOND_AUTH must be 'on' or 'off', got 'maybe'",
    ),
]
ALL_MESSAGES = [message for _, _, message in (*COMPONENT_CASES, *SAMPLE_CASES)]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return component(tmp_path_factory.mktemp("deploy-errors"))


def _assert_one_line(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr == f"configuration error: {message}\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("env", "message"), [c[1:] for c in COMPONENT_CASES], ids=[c[0] for c in COMPONENT_CASES]
)
def test_component_gunicorn_reports_one_line(
    project: Path, env: dict[str, str], message: str
) -> None:
    """The scaffold's Procfile command stops once: one line naming the variable, exit 2."""
    result = subprocess.run(
        web_argv(project),
        cwd=project,
        env=clean_env(**{"WEB_CONCURRENCY": "2", **env}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    _assert_one_line(result, message)


@pytest.mark.parametrize(
    ("env", "message"), [c[1:] for c in SAMPLE_CASES], ids=[c[0] for c in SAMPLE_CASES]
)
def test_sample_app_gunicorn_reports_one_line(env: dict[str, str], message: str) -> None:
    """`gunicorn --preload sample_app.wsgi:app`: auth misconfigurations are one line, exit 2."""
    command = [
        "gunicorn",
        "--preload",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{free_port()}",
        "sample_app.wsgi:app",
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    _assert_one_line(result, message)


@pytest.mark.parametrize(
    ("env", "message"), [c[1:] for c in SAMPLE_CASES[:2]], ids=[c[0] for c in SAMPLE_CASES[:2]]
)
def test_python_m_sample_app_reports_one_line(env: dict[str, str], message: str) -> None:
    """`python -m sample_app` reports the same auth errors the same way."""
    result = subprocess.run(
        ["python", "-m", "sample_app"], cwd=ROOT, env=clean_env(**env),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    _assert_one_line(result, message)


def test_second_embedded_mongo_in_one_folder_is_refused(tmp_path: Path) -> None:
    """A second `python -m sample_app` in the same folder: one line about the busy data folder."""
    port = free_port()
    first = subprocess.Popen(
        ["python", "-m", "sample_app"], cwd=tmp_path, env=clean_env(_PORT=str(port)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert wait_healthy(first, f"http://127.0.0.1:{port}/healthz"), "the first did not start"
        second = subprocess.run(
            ["python", "-m", "sample_app"], cwd=tmp_path, env=clean_env(_PORT=str(free_port())),
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        first.terminate()
        first.communicate(timeout=30)
    data = (tmp_path / ".rainbond-kit" / "mongo-data").resolve()
    _assert_one_line(
        second,
        f"the embedded MongoDB's data folder {data} is in use by another process (another"
        " `python app.py` in this folder?): stop it, or set MONGODB_URI",
    )


def test_the_deploy_guide_lists_every_message() -> None:
    """docs/deploy.md's table holds each message these tests assert, word for word."""
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    missing = [m for m in ALL_MESSAGES if f"configuration error: {m}" not in guide]
    assert missing == []


def test_workers_without_preload_stop_gunicorn_instead_of_respawning() -> None:
    """Without --preload each worker reports the line and exits "app failed to load" (4):
    gunicorn halts (the run ends) rather than respawning workers forever.

    gunicorn 27's own halt sometimes logs a HaltServer traceback here and exits 1 (a race in
    its ``stop()``), which is why the scaffold and the deploy guide preload.
    """
    env = clean_env(**MONGO, SECRET_KEY="s3cret")
    command = ["gunicorn", "-w", "2", "-b", f"127.0.0.1:{free_port()}", "sample_app.wsgi:app"]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode in (1, 4), result.stderr[-2000:]  # 1: gunicorn's halt race
    lines = [line for line in result.stderr.splitlines() if line.startswith("configuration error:")]
    assert 1 <= len(lines) <= 2
    assert lines[0] == f"configuration error: {SAMPLE_CASES[0][2]}"
    assert "App failed to load." in result.stderr
    assert "Booting worker" in result.stderr  # the workers, not the master, built the app
