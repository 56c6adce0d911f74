"""Probe: a component deployed as Rainbond 6 starts it, with the variables Rainbond injects.

Credentials with special characters, a non-default port, the platform's underscore
variables, malformed values: each either works end to end or stops start-up with one line
naming the variable.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from rainbond_kit.auth import AuthSettings
from rainbond_kit.embedded import free_port
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.redis_client import connect_redis
from rainbond_kit.settings import Settings

from .deploy_support import clean_env, component, procfile_web

#: a password using every character a URL treats specially, a space and a plus among them
SPECIAL_PASSWORD = "p@ss w:rd/%2B+?#&="


@pytest.fixture(scope="module")
def redis_with_password() -> Iterator[int]:
    """A ``redis-server`` requiring :data:`SPECIAL_PASSWORD`; yields its port."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not on PATH")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--requirepass", SPECIAL_PASSWORD],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, password=SPECIAL_PASSWORD)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    try:
        yield port
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("variable", ["REDIS_PASSWORD", "REDIS_PASS"])
def test_redis_password_with_special_characters_authenticates(
    redis_with_password: int, variable: str
) -> None:
    """``REDIS_PASSWORD="p@ss w:rd/%2B+?#&="``: the client sends exactly that password.

    The settings used to write the password into the URL with ``quote_plus`` (a space
    becomes ``+``) while redis-py reads a URL's password with ``unquote`` (``+`` stays
    ``+``): a password holding a space failed with "invalid username-password pair"."""
    settings = Settings.from_env(
        {
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis_with_password),
            variable: SPECIAL_PASSWORD,
        }
    )
    client = connect_redis(settings.redis)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_a_wrong_redis_password_is_refused(redis_with_password: int) -> None:
    """Control: the server does check the password (a near miss is refused)."""
    settings = Settings.from_env(
        {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_with_password),
         "REDIS_PASSWORD": SPECIAL_PASSWORD.replace(" ", "+")}
    )  # fmt: skip
    client = connect_redis(settings.redis)
    try:
        with pytest.raises(redis.AuthenticationError):
            client.ping()
    finally:
        client.close()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scaffolded component (this interpreter's rainbond-kit)."""
    return component(tmp_path_factory.mktemp("probe-deploy"))


def _start(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", f"exec {procfile_web(project)}"],
        cwd=project,
        env=clean_env(**{"WEB_CONCURRENCY": "2", "_PORT": str(free_port()), **env}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("value", "why"),
    [("my shop", "contains ' '"), ("a/b", "contains '/'"), ("x" * 64, "must be 1 to 63 bytes")],
)  # fmt: skip
def test_an_invalid_mongodb_db_stops_start_up_with_one_line(
    project: Path, value: str, why: str
) -> None:
    """``MONGODB_DB="my shop"`` (a name MongoDB refuses) used to start gunicorn: ``/readyz``
    answered 200 and every resource request 503 "mongodb is unavailable" (pymongo's
    InvalidName, raised per request). It now stops start-up: one line naming the variable,
    exit 2. (``orders.v2`` is a row of test_deploy_errors.py and docs/deploy.md.)"""
    result = _start(project, {"MONGODB_URI": "mongodb://127.0.0.1:1/", "MONGODB_DB": value})
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr == (
        f"configuration error: MONGODB_DB is not a valid database name ({why}): {value!r}\n"
    )
    assert result.stdout == ""


def test_database_names_are_checked_in_every_variable() -> None:
    """MONGODB_DATABASE and the auth center's MONGODB_DB_NAME are checked the same way;
    the control (a valid name with a dash and Chinese) is accepted."""
    uri = {"MONGODB_URI": "mongodb://127.0.0.1:1/"}
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({**uri, "MONGODB_DATABASE": "a$b"})
    assert str(info.value) == "MONGODB_DATABASE is not a valid database name (contains '$'): 'a$b'"
    auth = {
        "SECRET_KEY": "s3cret", "REDIS_DB_PERMISSION": "3", "MONGODB_PERMISSION": "p",
        "MONGODB_PERMISSIONSET": "ps", "MONGODB_ROLE": "r", "MONGODB_USER": "u",
    }  # fmt: skip
    with pytest.raises(ConfigurationError) as info:
        AuthSettings.from_env({**auth, "MONGODB_DB_NAME": "auth.center"})
    assert str(info.value) == (
        "MONGODB_DB_NAME is not a valid database name (contains '.'): 'auth.center'"
    )
    assert Settings.from_env({**uri, "MONGODB_DB": "shop-订单"}).mongo.database == "shop-订单"
    assert AuthSettings.from_env({**auth, "MONGODB_DB_NAME": "auth-1"}).mongo_db_name == "auth-1"
