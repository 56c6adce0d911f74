"""compat's client registry: one precedence for custom variable names, one client per server.

Regression (issue 11): ``DBConnect`` let ``MONGODB_URI`` win over a custom host variable while
``RedisConnect`` let the custom host win over ``REDIS_URL``.
"""

from __future__ import annotations

import pytest

from rainbond_kit.compat.db_connect import DBConnect
from rainbond_kit.compat.redis_connect import RedisConnect


def _seeds(connect: DBConnect) -> set[tuple[str, int | None]]:
    return set(connect.mongo_client.topology_description.server_descriptions())


def test_custom_names_beat_the_uri_for_mongodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """A custom host variable is the whole source: MONGODB_URI is not consulted."""
    monkeypatch.setenv("MONGODB_URI", "mongodb://uri-host:27017/")
    monkeypatch.setenv("ORDERS_DB_HOST", "custom-host")
    monkeypatch.setenv("ORDERS_DB_PORT", "27018")
    connect = DBConnect("orders", "items", home_key="ORDERS_DB_HOST", port_key="ORDERS_DB_PORT")
    assert _seeds(connect) == {("custom-host", 27018)}


def test_custom_names_beat_the_url_for_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same precedence for Redis: REDIS_URL is not consulted once a name is custom."""
    monkeypatch.setenv("REDIS_URL", "redis://url-host:6379/0")
    monkeypatch.setenv("CACHE_HOST", "custom-host")
    connect = RedisConnect(db=2, host_key="CACHE_HOST", port_key="CACHE_PORT")
    assert connect.pool.connection_kwargs["host"] == "custom-host"
    assert connect.pool.connection_kwargs["port"] == 6379


def test_default_names_read_the_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: with the default names the URI wins, as everywhere in the kit."""
    monkeypatch.setenv("MONGODB_URI", "mongodb://uri-host:27017/")
    monkeypatch.setenv("MONGODB_HOST", "ignored-host")
    monkeypatch.setenv("REDIS_URL", "redis://url-host:6390/0")
    monkeypatch.setenv("REDIS_HOST", "ignored-host")
    assert _seeds(DBConnect("orders", "items")) == {("uri-host", 27017)}
    assert RedisConnect(db=1).pool.connection_kwargs["host"] == "url-host"


def test_instances_share_one_client_per_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two DBConnects naming the same server share one pooled client."""
    monkeypatch.setenv("SHARED_HOST", "shared-host")
    first = DBConnect("a", "x", home_key="SHARED_HOST")
    second = DBConnect("b", "y", home_key="SHARED_HOST")
    assert first.mongo_client is second.mongo_client
