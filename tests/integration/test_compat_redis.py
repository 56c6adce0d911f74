"""RedisConnect against a real Redis: seed usage, db honoured, shared pools, 503 when down."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from flask import Flask

from rainbond_kit.compat.clients import close_pools
from rainbond_kit.compat.redis_connect import RedisConnect
from tests.unit.compat_app import seed_app


@pytest.fixture
def redis_env(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> Iterator[str]:
    """REDIS_URL points at the test server; shared pools are closed afterwards."""
    for name in ("REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_PASS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_URL", redis_url)
    yield redis_url
    close_pools()


@pytest.fixture
def key() -> str:
    return f"compat-{uuid.uuid4().hex}"


@pytest.fixture
def direct(redis_env: str) -> Iterator[dict[int, redis.Redis]]:
    """Independent clients on db 0 and db 3, to check where data really went."""
    parts = urlsplit(redis_env)
    clients = {
        db: redis.Redis.from_url(urlunsplit(parts._replace(path=f"/{db}")), decode_responses=True)
        for db in (0, 3)
    }
    yield clients
    for client in clients.values():
        client.close()


def test_seed_usage_on_db_0(redis_env: str, direct: dict[int, redis.Redis], key: str) -> None:
    """RedisConnect(db=0) and every helper with the original's call forms."""
    redis_connect = RedisConnect(db=0)
    k1, k2, items = f"{key}:1", f"{key}:2", f"{key}:list"
    assert redis_connect.mset_({k1: "v1", k2: "v2"}) is True
    assert redis_connect.get_(k1) == "v1"
    assert redis_connect.mget_(k1, k2) == ["v1", "v2"]
    assert redis_connect.mget_([k1, k2]) == ["v1", "v2"]
    assert redis_connect.getset_(k1, "barbecue") == "v1"
    assert redis_connect.incr_(f"{key}:n", amount=5) == 5
    assert redis_connect.decr_(f"{key}:n", amount=3) == 2
    assert redis_connect.lpush_(items, 11, 22) == 2
    assert redis_connect.rpush_(items, 33) == 3
    assert redis_connect.lpop_(items) == "22"
    assert redis_connect.rpop_(items) == "33"
    assert redis_connect.exists_(k1, k2, f"{key}:none") == 2
    assert redis_connect.expire_(k2, time=30) is True
    assert 0 < direct[0].ttl(k2) <= 30
    assert redis_connect.delete_(k1, k2, items, f"{key}:n") == 4
    assert redis_connect.connect().ping() is True


def test_db_argument_is_honoured(direct: dict[int, redis.Redis], key: str) -> None:
    """The original ignored db and wrote to 0; RedisConnect(db=3) writes to database 3."""
    RedisConnect(db=3).mset_({key: "in-three"})
    try:
        assert direct[3].get(key) == "in-three"
        assert direct[0].get(key) is None
        assert RedisConnect(db=0).get_(key) is None
    finally:
        direct[3].delete(key)


def test_instances_share_one_pool_per_database(redis_env: str) -> None:
    """Same server and db: one pool; another db or decoding: another pool; no probe GET."""
    first, second = RedisConnect(db=1), RedisConnect(db=1)
    assert first.pool is second.pool
    assert RedisConnect(db=2).pool is not first.pool
    assert RedisConnect(db=1, decode_responses=False).pool is not first.pool
    assert first.connect() is first.connect()
    assert first.pool.connection_kwargs["db"] == 1


def test_custom_variable_names(monkeypatch: pytest.MonkeyPatch, redis_env: str, key: str) -> None:
    """host_key/port_key name other variables, as in the original."""
    parts = urlsplit(redis_env)
    monkeypatch.setenv("CACHE_HOST", parts.hostname or "")
    monkeypatch.setenv("CACHE_PORT", str(parts.port))
    connect = RedisConnect(
        db=4, host_key="CACHE_HOST", port_key="CACHE_PORT", password="CACHE_PASS"
    )
    assert connect.pool.connection_kwargs["port"] == parts.port
    connect.mset_({key: "x"})
    assert connect.get_(key) == "x"
    assert connect.delete_(key) == 1


def test_unreachable_redis_is_a_503_envelope(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a request, a connection failure is 503 'Redis 连接失败', not a 500 with details."""
    for app in seed_app(monkeypatch):
        _route_reading_redis(app)
        response = app.test_client().get("/cache")
        close_pools()
        assert response.status_code == 503
        body = response.get_json()
        assert body["message"] == "Redis 连接失败"
        assert "127.0.0.1:1" not in response.get_data(as_text=True)


def _route_reading_redis(app: Flask) -> None:
    @app.get("/cache")
    def cache() -> dict[str, object]:
        return {"value": RedisConnect(db=0).get_("k")}


def test_one_round_trip_per_helper(direct: dict[int, redis.Redis], key: str) -> None:
    """The original sent a probe GET before every command; now each helper is one command."""
    connect = RedisConnect(db=0)
    connect.connect().ping()  # open the pooled connection before counting
    direct[0].config_resetstat()
    for _ in range(3):
        connect.get_(key)
    connect.incr_(key)
    stats = direct[0].info("commandstats")
    connect.delete_(key)
    assert stats["cmdstat_get"]["calls"] == 3
    assert stats["cmdstat_incrby"]["calls"] == 1
