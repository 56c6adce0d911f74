"""Probe: a component deployed as Rainbond 6 starts it, with the variables Rainbond injects.

Credentials with special characters, a non-default port, the platform's underscore
variables, malformed values: each either works end to end or stops start-up with one line
naming the variable.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pymongo.errors
import pytest
import redis

from rainbond_kit.auth import AuthSettings
from rainbond_kit.embedded import free_port
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.redis_client import connect_redis
from rainbond_kit.settings import Settings

from .deploy_support import clean_env, component, start_web, wait_healthy, web_argv

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
        web_argv(project),
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


MONGO_USER = "ad@m:n/%"
MONGO_PASSWORD = "p@ss:w/rd%25 +?#"


def _wait_ping(client: pymongo.MongoClient[dict[str, Any]]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            client.admin.command("ping")
            return
        except pymongo.errors.PyMongoError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _secantus(storage: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port),
         "--storage-path", str(storage), "--log-level", "ERROR", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def mongo_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A SecantusDB with ``--auth`` whose one user, :data:`MONGO_USER`, has
    :data:`MONGO_PASSWORD` (created before auth is switched on); yields its port."""
    storage = tmp_path_factory.mktemp("auth-mongo") / "data"
    port = free_port()
    proc = _secantus(storage, port)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=2000
    )
    try:
        _wait_ping(client)
        client.admin.command("createUser", MONGO_USER, pwd=MONGO_PASSWORD, roles=["root"])
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=60)
    proc = _secantus(storage, port, "--auth")
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            kind = response.headers.get("Content-Type", "")
            return response.status, json.loads(raw) if "json" in kind else raw.decode()
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.mark.slow
def test_component_serves_with_rainbond_6_variables_and_special_credentials(
    project: Path, mongo_with_auth: int, redis_with_password: int
) -> None:
    """The untouched scaffold under its Procfile command, given what Rainbond 6 injects
    (``_PORT`` not 5000, ``MONGODB_HOST``/``_PORT`` with ``MONGODB_USER``/``MONGODB_PASS``
    holding ``@ : / % + ? #`` and a space, ``REDIS_HOST``/``_PORT``/``_PASS``,
    ``_SERVICE_NAME``, ``_POD_NAME``): probes, metrics, a CRUD round trip, the pod's name in
    error envelopes, and SIGTERM ends gunicorn with exit 0."""
    port = free_port()
    env = clean_env(
        _PORT=str(port),
        _SERVICE_NAME="gr1a2b3c",
        _POD_NAME="gr1a2b3c-0",
        MONGODB_HOST="127.0.0.1",
        MONGODB_PORT=str(mongo_with_auth),
        MONGODB_USER=MONGO_USER,
        MONGODB_PASS=MONGO_PASSWORD,
        MONGODB_DB="shop",
        REDIS_HOST="127.0.0.1",
        REDIS_PORT=str(redis_with_password),
        REDIS_PASS=SPECIAL_PASSWORD,
        WEB_CONCURRENCY="2",
    )
    proc = start_web(project, env)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_healthy(proc, f"{base}/readyz", timeout=120), proc.poll()
        assert _http("GET", f"{base}/healthz") == (200, {"status": "ok"})
        status, ready = _http("GET", f"{base}/readyz")
        assert (status, ready["status"], ready["checks"]) == (
            200, "ok", {"mongodb": "ok", "redis": "ok"}
        )  # fmt: skip
        status, item = _http("POST", f"{base}/api/v1/items", {"name": "苹果", "quantity": 3})
        assert status == 201
        url = f"{base}/api/v1/items/{item['id']}"
        assert _http("GET", url) == (200, item)
        status, patched = _http("PATCH", url, {"quantity": 4})
        assert (status, patched["quantity"], patched["name"]) == (200, 4, "苹果")
        status, listed = _http("GET", f"{base}/api/v1/items")
        assert (status, listed["total"], listed["items"]) == (200, 1, [patched])
        assert _http("DELETE", url)[0] == 204
        status, missing = _http("GET", url)
        assert (status, missing["code"], missing["host_name"]) == (404, 404, "gr1a2b3c-0")
        status, metrics = _http("GET", f"{base}/metrics")
        assert status == 200
        assert (
            'http_requests_total{method="POST",route="/api/v1/items",status="201"} 1.0' in metrics
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-3000:]
    assert f"Listening at: http://0.0.0.0:{port}" in stderr
    assert "Traceback" not in stderr
    assert SPECIAL_PASSWORD not in stdout + stderr
    assert MONGO_PASSWORD not in stdout + stderr
    assert "Shutting down: Master" in stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://127.0.0.1:6379/0?db=x", "REDIS_URL is not a valid Redis URL: Invalid value for 'db' in connection URL."),
        ("redis://127.0.0.1:6379/0?socket_timeout=abc",
         "REDIS_URL is not a valid Redis URL: Invalid value for 'socket_timeout' in connection URL."),
        ("redis://127.0.0.1:6379/0?foo=bar",
         "REDIS_URL has an option the Redis client does not accept:"
         " AbstractConnection.__init__() got an unexpected keyword argument 'foo'"),
        ("rediss://127.0.0.1:6379/0?ssl_cert_reqs=bogus",
         "REDIS_URL is not a valid Redis URL: Invalid SSL Certificate Requirements Flag: bogus"),
        ("redis://:s3cretpw@127.0.0.1:6379/abc",
         "REDIS_URL's database must be a number (e.g. redis://host:6379/0), got 'abc'"),
    ],
)  # fmt: skip
def test_a_malformed_redis_url_is_a_configuration_error(url: str, message: str) -> None:
    """A REDIS_URL redis-py cannot build a connection from (a bad query value, an option it
    does not know) used to pass the settings: every request touching Redis, ``/readyz``
    first, then failed with a bare 500. A non-numeric database (``/abc``) was silently
    database 0. Each is now a ConfigurationError naming the variable, without the password."""
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({"REDIS_URL": url})
    assert str(info.value) == message


def test_well_formed_redis_urls_are_accepted() -> None:
    """Controls: options redis-py knows, a unix socket with its database, a database path."""
    for url in (
        "redis://:p%20w@127.0.0.1:6379/3?socket_timeout=1.5&health_check_interval=10",
        "unix:///run/redis.sock?db=2",
        "rediss://127.0.0.1:6380/0?ssl_cert_reqs=none",
        "redis://127.0.0.1",
    ):
        assert Settings.from_env({"REDIS_URL": url}).redis.url == url


@pytest.mark.slow
def test_a_malformed_redis_url_stops_gunicorn_with_one_line(project: Path) -> None:
    """Through the Procfile: one line naming REDIS_URL, exit 2, no worker booted."""
    result = _start(
        project,
        {"MONGODB_URI": "mongodb://127.0.0.1:1/", "REDIS_URL": "redis://127.0.0.1:6379/0?db=x"},
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr == (
        "configuration error: REDIS_URL is not a valid Redis URL:"
        " Invalid value for 'db' in connection URL.\n"
    )


@pytest.mark.slow
def test_an_unusable_prometheus_multiproc_dir_stops_gunicorn_with_one_line(
    project: Path, tmp_path: Path
) -> None:
    """``PROMETHEUS_MULTIPROC_DIR`` naming a file (or anything that cannot be a writable
    directory) used to stop gunicorn with a 15-line FileExistsError traceback, exit 1. It is
    now the one configuration line naming the variable, exit 2."""
    taken = tmp_path / "metrics"
    taken.write_text("not a directory")
    result = _start(
        project, {"MONGODB_URI": "mongodb://127.0.0.1:1/", "PROMETHEUS_MULTIPROC_DIR": str(taken)}
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr == (
        "configuration error: PROMETHEUS_MULTIPROC_DIR must name a directory this process can"
        f" write, got {str(taken)!r} (File exists)\n"
    )


def test_a_missing_prometheus_multiproc_dir_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control: a directory that does not exist yet is created, and stale metric files of
    an existing one are removed."""
    from rainbond_kit.observability.gunicorn import prepare_multiprocess_dir

    target = tmp_path / "a" / "b"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(target))
    assert prepare_multiprocess_dir() == target
    assert target.is_dir()
    (target / "counter_1.db").write_bytes(b"x")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", f"{target}/")
    assert prepare_multiprocess_dir() == target
    assert list(target.iterdir()) == []


@pytest.mark.slow
def test_an_unknown_gunicorn_loglevel_stops_gunicorn_with_one_line(project: Path) -> None:
    """``GUNICORN_LOGLEVEL=loud`` used to be taken silently as ``info`` by gunicorn; the
    config file now refuses it like its other variables: one line, exit 2."""
    result = _start(project, {"MONGODB_URI": "mongodb://127.0.0.1:1/", "GUNICORN_LOGLEVEL": "loud"})
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr == (
        "configuration error: GUNICORN_LOGLEVEL must be one of debug, info, warning, error,"
        " critical, got 'loud'\n"
    )


def test_gunicorn_loglevel_accepts_any_case(project: Path) -> None:
    """Control: ``WARNING`` is gunicorn's ``warning``; unset is ``info``."""
    script = "import runpy; print(runpy.run_path('gunicorn.conf.py')['loglevel'])"
    for value, expected in (("WARNING", "warning"), ("", "info")):
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=project,
            env=clean_env(GUNICORN_LOGLEVEL=value),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (result.returncode, result.stdout) == (0, f"{expected}\n"), result.stderr
