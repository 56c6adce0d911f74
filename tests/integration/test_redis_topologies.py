"""Redis beyond one server, on real ``redis-server`` processes: Sentinel failover under load and
exact rate limits on a three-master Cluster (see docs/scaling.md, "Redis")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pymongo
import pytest
import requests
from flask import Flask, jsonify

from rainbond_kit.auth.stores import redis_settings_for_db
from rainbond_kit.auth.tokens import mint_token
from rainbond_kit.backup.lock import BackupLock
from rainbond_kit.compat.redis_connect import RedisConnect
from rainbond_kit.doctor.stores import check_redis
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.ratelimit import limit
from rainbond_kit.redis_client import RedisClient, connect_cluster, connect_redis
from rainbond_kit.settings import REDIS_URL_VARIABLES, RedisSettings
from tests.conftest import KitAppFactory
from tests.integration._redis_topology import (  # noqa: F401 - fixtures
    ClusterSetup,
    SentinelSetup,
    redis_cluster_fixture,
    sentinel_setup_fixture,
    wait_for,
)
from tests.integration._served import served
from tests.integration.auth_support import REDIS_DB, SECRET, auth_env, make_auth_app

pytestmark = pytest.mark.slow

#: Variables a developer's shell may set that would name another Redis.
_OTHER_REDIS = (*REDIS_URL_VARIABLES, "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASS")


@pytest.fixture(name="topology_env")
def topology_env_fixture(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set a topology's variables in ``os.environ`` (for compat and doctor), nothing else."""
    for name in _OTHER_REDIS:
        monkeypatch.delenv(name, raising=False)

    def apply(env: dict[str, str]) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    return apply


def _app(make_kit_app: KitAppFactory, env: dict[str, str], mongo_db_name: str) -> Flask:
    """Auth on (sessions in REDIS_DB_PERMISSION) plus ``/limited``, over ``env``'s Redis."""
    app = make_auth_app(make_kit_app, env, auth_env(mongo_db_name))

    @app.get("/limited")
    @limit("100000/minute", scope=uuid.uuid4().hex)
    def limited() -> Any:
        return jsonify(ok=True)

    return app


@dataclass(frozen=True)
class Call:
    """One request the readers sent: when it started and came back, what it answered."""

    started: float
    ended: float
    path: str
    status: int
    body: Any


@dataclass
class Logins:
    """What the writer thread did: logins acknowledged by a replica (``WAIT 1``), failures."""

    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def latest(self) -> tuple[str, str]:
        with self.lock:
            return self.acknowledged[-1]

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def _write_logins(
    sessions: RedisClient,
    users: pymongo.collection.Collection[Any],
    logins: Logins,
    stop: threading.Event,
) -> None:
    """Do what the auth center does at login, counting a login only once a replica has it."""
    while not stop.is_set():
        uid = str(users.insert_one({"role_name": [], "group_name": []}).inserted_id)
        try:
            sessions.set(uid, f"{uid}--writer--测试")
            acknowledged = sessions.wait(1, 2000) >= 1
        except Exception:
            acknowledged = False
        with logins.lock:
            if acknowledged:
                logins.acknowledged.append((uid, mint_token(SECRET, uid, "writer", "测试")))
            else:
                logins.failures += 1
        time.sleep(0.02)


def test_sentinel_failover_under_load(
    sentinel_setup: SentinelSetup,
    make_kit_app: KitAppFactory,
    mongo_uri: str,
    mongo_db_name: str,
    mongo_client: pymongo.MongoClient[dict[str, Any]],
) -> None:
    """The master is killed while logins are written and served: Sentinel promotes the replica,
    the same app (no restart) answers again, with 503 envelopes (never a 500) in between, and
    every login a replica acknowledged before or after the kill still authenticates."""
    env = {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name, **sentinel_setup.env}
    app = _app(make_kit_app, env, mongo_db_name)
    sessions = connect_redis(redis_settings_for_db(RedisSettings.from_env(env), REDIS_DB))
    logins, stop = Logins(), threading.Event()
    calls: list[Call] = []
    writer = threading.Thread(
        target=_write_logins, args=(sessions, mongo_client[mongo_db_name].user, logins, stop)
    )

    def read(url: str) -> None:
        with requests.Session() as http:
            while not stop.is_set():
                uid, token = logins.latest()
                for path in ("/me", "/limited"):
                    started = time.monotonic()
                    response = http.get(url + path, headers={"token": token}, timeout=60)
                    body = response.json()
                    if path == "/me" and response.status_code == 200 and body["uid"] != uid:
                        body = {"wrong uid": body, "expected": uid}
                    calls.append(Call(started, time.monotonic(), path, response.status_code, body))

    readers: list[threading.Thread] = []
    with served(app) as url:
        writer.start()
        try:
            wait_for(lambda: logins.count() >= 10, "10 acknowledged logins")
            readers += [threading.Thread(target=read, args=(url,)) for _ in range(2)]
            for reader in readers:
                reader.start()
            wait_for(lambda: len(calls) >= 20, "20 served requests before the kill")
            before_kill = logins.count()
            killed_at = time.monotonic()
            sentinel_setup.master.kill()
            replica_ports = {replica.port for replica in sentinel_setup.replicas}
            wait_for(
                lambda: sentinel_setup.master_port() in replica_ports,
                "Sentinel to promote a replica",
            )
            promoted_at = time.monotonic()
            wait_for(
                lambda: (
                    logins.count() >= before_kill + 10
                    and {(c.path, c.status) for c in list(calls) if c.started > promoted_at}
                    >= {("/me", 200), ("/limited", 200)}
                ),
                "logins and requests to succeed again after the failover",
            )
        finally:
            stop.set()
            writer.join(30)
            for reader in readers:
                reader.join(60)
        # every acknowledged login, before and after the kill, through the same app
        client = app.test_client()
        for uid, token in logins.acknowledged:
            response = client.get("/me", headers={"token": token})
            assert (response.status_code, response.get_json()["uid"]) == (200, uid)
    sessions.close()

    assert {c.status for c in calls} <= {200, 503}
    assert not [c for c in calls if "wrong uid" in c.body]
    failed = [c for c in calls if c.status == 503]
    assert all(c.body["code"] == 503 and "store" in c.body["message"] for c in failed)
    # no 503 before the kill: only requests still running when the master died may fail
    assert all(c.ended >= killed_at for c in failed)


def test_sentinel_serves_every_redis_user(
    sentinel_setup: SentinelSetup, topology_env: Any, mongo_uri: str
) -> None:
    """Compat ``RedisConnect``, backup's lock and ``doctor`` reach Sentinel's master."""
    topology_env(sentinel_setup.env)
    settings = RedisSettings.from_env(os.environ)
    assert settings.mode == "sentinel"
    connect = RedisConnect(db=2)
    connect.connect().set("compat", "yes")
    assert connect.get_("compat") == "yes"
    assert connect.pool.connection_kwargs["db"] == 2
    client = connect_redis(settings, decode_responses=False)
    lock = BackupLock(client, "books", ttl_ms=60_000)
    claim = lock.claim(datetime.now(timezone.utc))
    assert claim.token is not None
    lock.check(claim.token)
    assert lock.release(claim.token) is True
    client.close()
    check = check_redis(os.environ)
    assert check.status == "ok"
    assert "sentinel master 'kitmaster'" in check.detail
    assert "data-pass" not in check.detail


def _start_app_process(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration._ratelimit_server"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = proc.stdout.readline().strip()
    assert port.isdigit(), f"the app process did not start (exit code {proc.poll()})"
    return proc, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("strategy", ["sliding", "fixed"])
def test_cluster_rate_limits_exact_across_two_processes(
    redis_cluster: ClusterSetup, topology_env: Any, mongo_uri: str, strategy: str
) -> None:
    """20/minute per client, 30 concurrent requests per client spread over two app processes,
    eight clients whose keys land on different masters: exactly 20 pass per client, each with
    its own ``X-RateLimit-Remaining``, and the other 10 are 429s."""
    scope = f"cluster-{strategy}-{uuid.uuid4().hex[:8]}"
    env = {
        **redis_cluster.env,
        "MONGODB_URI": mongo_uri,
        "RATE": "20/minute",
        "SCOPE": scope,
        "RAINBOND_RATELIMIT_STRATEGY": strategy,
        "RAINBOND_TRUSTED_PROXIES": "1",
    }
    ips = [f"10.0.0.{n}" for n in range(1, 9)]
    processes = [_start_app_process(env) for _ in range(2)]
    try:

        def hit(n: int) -> tuple[str, int, str]:
            ip = ips[n % len(ips)]
            url = processes[(n // len(ips)) % 2][1]
            response = requests.get(url + "/limited", headers={"X-Forwarded-For": ip}, timeout=60)
            return ip, response.status_code, response.headers["X-RateLimit-Remaining"]

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(hit, range(30 * len(ips))))
    finally:
        for proc, _ in processes:
            proc.terminate()
            proc.wait(30)
            if proc.stdout:
                proc.stdout.close()

    for ip in ips:
        statuses = Counter(status for who, status, _ in results if who == ip)
        assert statuses == {200: 20, 429: 10}, ip
        remaining = sorted(int(r) for who, status, r in results if who == ip and status == 200)
        assert remaining == list(range(20)), ip
    cluster = connect_cluster(RedisSettings.from_env(redis_cluster.env))
    keys = [f"rainbond:ratelimit:{{{strategy}:20:60:{scope}:GET:ip:{ip}}}" for ip in ips]
    assert all(cluster.exists(key) == 1 for key in keys)
    owners = {cluster.get_node_from_key(key).name for key in keys}
    cluster.close()
    assert len(owners) >= 2  # the budgets really are spread over several masters


def test_cluster_auth_sessions_use_a_key_prefix(
    redis_cluster: ClusterSetup,
    make_kit_app: KitAppFactory,
    mongo_uri: str,
    mongo_db_name: str,
    mongo_client: pymongo.MongoClient[dict[str, Any]],
) -> None:
    """A Cluster has no database REDIS_DB_PERMISSION: sessions live under ``db<N>:<uid>``; a
    bare ``<uid>`` key (another database's data on one server) does not log anyone in."""
    env = {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name, **redis_cluster.env}
    app = _app(make_kit_app, env, mongo_db_name)
    users = mongo_client[mongo_db_name].user
    sessions = connect_cluster(RedisSettings.from_env(env))
    prefixed, bare = (
        str(users.insert_one({"role_name": [], "group_name": []}).inserted_id) for _ in range(2)
    )
    sessions.set(f"db{REDIS_DB}:{prefixed}", f"{prefixed}--a--测试")
    sessions.set(bare, f"{bare}--b--测试")
    client = app.test_client()
    ok = client.get("/me", headers={"token": mint_token(SECRET, prefixed, "a", "测试")})
    refused = client.get("/me", headers={"token": mint_token(SECRET, bare, "b", "测试")})
    sessions.close()
    assert (ok.status_code, ok.get_json()["uid"]) == (200, prefixed)
    assert refused.status_code == 401
    assert client.get("/limited").status_code == 200


def test_cluster_serves_every_redis_user(redis_cluster: ClusterSetup, topology_env: Any) -> None:
    """Compat ``RedisConnect`` (database 0 only), backup's lock and ``doctor`` on a Cluster."""
    topology_env(redis_cluster.env)
    connect = RedisConnect()
    for key in ("alpha", "beta", "gamma", "delta"):  # several slots, several masters
        connect.connect().set(key, key.upper())
    assert [connect.get_(k) for k in ("alpha", "beta", "gamma", "delta")] == [
        "ALPHA",
        "BETA",
        "GAMMA",
        "DELTA",
    ]
    assert connect.incr_("counter", amount=3) == 3
    with pytest.raises(ConfigurationError, match="only database 0"):
        RedisConnect(db=1)
    with pytest.raises(AttributeError, match="one connection pool per node"):
        _ = connect.pool
    client = connect_cluster(RedisSettings.from_env(os.environ), decode_responses=False)
    lock = BackupLock(client, "books", ttl_ms=60_000)
    claim = lock.claim(datetime.now(timezone.utc))
    assert claim.token is not None
    assert lock.claim(datetime.now(timezone.utc)).token is None
    assert lock.release(claim.token) is True
    client.close()
    check = check_redis(os.environ)
    assert (check.status, check.detail.split(" answered")[0]) == (
        "ok",
        "cluster " + redis_cluster.env["REDIS_CLUSTER_NODES"],
    )
    assert re.search(r"version \d+\.\d+", check.detail)


def test_explicit_session_prefix_on_one_server(
    make_kit_app: KitAppFactory,
    rainbond_env: dict[str, str],
    redis_url: str,
    mongo_client: pymongo.MongoClient[dict[str, Any]],
    mongo_db_name: str,
) -> None:
    """``REDIS_PERMISSION_KEY_PREFIX`` applies on one server too: the login is read at
    ``<prefix><uid>`` in database REDIS_DB_PERMISSION, and the bare ``<uid>`` is not a login."""
    app = make_auth_app(
        make_kit_app, rainbond_env, auth_env(mongo_db_name, REDIS_PERMISSION_KEY_PREFIX="sess:")
    )
    users = mongo_client[mongo_db_name].user
    prefixed, bare = (
        str(users.insert_one({"role_name": [], "group_name": []}).inserted_id) for _ in range(2)
    )
    sessions = connect_redis(redis_settings_for_db(RedisSettings(url=redis_url), REDIS_DB))
    sessions.set(f"sess:{prefixed}", f"{prefixed}--a--测试", ex=60)
    sessions.set(bare, f"{bare}--b--测试", ex=60)
    sessions.close()
    client = app.test_client()
    ok = client.get("/me", headers={"token": mint_token(SECRET, prefixed, "a", "测试")})
    refused = client.get("/me", headers={"token": mint_token(SECRET, bare, "b", "测试")})
    assert (ok.status_code, ok.get_json()["uid"]) == (200, prefixed)
    assert refused.status_code == 401
