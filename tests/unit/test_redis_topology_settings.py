"""Reading Redis Sentinel and Cluster settings; building their clients (no sockets)."""

from __future__ import annotations

import pytest
import redis
from redis.sentinel import SentinelConnectionPool

from rainbond_kit import ConfigurationError
from rainbond_kit.auth.stores import redis_settings_for_db
from rainbond_kit.env import addresses
from rainbond_kit.redis_client import connect_redis, connection_pool, key_prefix_for_db
from rainbond_kit.settings import RedisSettings

SENTINELS = {"REDIS_SENTINELS": "s1:26379, s2 ,[::1]:26380", "REDIS_PASSWORD": "p@ss"}


def test_sentinel_settings() -> None:
    """Sentinel addresses (default port 26379), master name, both passwords, database."""
    settings = RedisSettings.from_env(
        {
            **SENTINELS,
            "REDIS_SENTINEL_MASTER": "books",
            "REDIS_SENTINEL_PASSWORD": "s3cret",
            "REDIS_DB": "4",
            "REDIS_HOST": "injected-by-rainbond",
        }
    )
    assert settings.mode == "sentinel"
    assert settings.configured is True
    assert settings.sentinels == (("s1", 26379), ("s2", 26379), ("::1", 26380))
    assert (settings.sentinel_master, settings.sentinel_password) == ("books", "s3cret")
    assert (
        settings.redacted_url
        == "sentinel master 'books' via s1:26379,s2:26379,[::1]:26380, database 4"
    )
    assert "s3cret" not in repr(settings)
    pool = connection_pool(settings)
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.connection_kwargs["db"] == 4
    assert pool.connection_kwargs["password"] == "p@ss"
    assert "host" not in pool.connection_kwargs
    assert pool.service_name == "books"


def test_sentinel_defaults_and_auth_database() -> None:
    """The master is ``mymaster`` by default; the auth center's database is another db number."""
    settings = RedisSettings.from_env({"REDIS_SENTINELS": "s1"})
    assert (settings.sentinel_master, settings.sentinel_password) == ("mymaster", None)
    auth = redis_settings_for_db(settings, 3)
    assert (auth.mode, auth.sentinels) == ("sentinel", settings.sentinels)
    assert connection_pool(auth).connection_kwargs["db"] == 3
    assert key_prefix_for_db(auth, 3) == ""


def test_cluster_settings() -> None:
    """Cluster start-up nodes (default port 6379); auth keys get a ``db<N>:`` prefix instead."""
    env = {"REDIS_CLUSTER_NODES": "n1:7000,n2", "REDIS_PASSWORD": "pw"}
    settings = RedisSettings.from_env(env)
    assert settings.mode == "cluster"
    assert settings.cluster_nodes == (("n1", 7000), ("n2", 6379))
    assert settings.redacted_url == "cluster n1:7000,n2:6379"
    assert redis_settings_for_db(settings, 3) is settings
    assert key_prefix_for_db(settings, 3) == "db3:"
    assert key_prefix_for_db(settings, 0) == ""
    assert key_prefix_for_db(settings, 3, "sessions:") == "sessions:"
    with pytest.raises(ConfigurationError, match="only database 0, not 3"):
        connect_redis(settings, db=3)
    with pytest.raises(ConfigurationError, match="no single connection pool"):
        connection_pool(settings)


def test_clients_per_mode() -> None:
    """One server and Sentinel give ``redis.Redis`` (a Cluster client connects when built: the
    integration tests cover it)."""
    standalone = connect_redis(RedisSettings(url="redis://h:1/2", configured=True))
    sentinel = connect_redis(RedisSettings.from_env({"REDIS_SENTINELS": "127.0.0.1:1"}))
    assert isinstance(standalone, redis.Redis)
    assert standalone.connection_pool.connection_kwargs["db"] == 2
    assert isinstance(sentinel.connection_pool, SentinelConnectionPool)  # type: ignore[union-attr]
    standalone.close()
    sentinel.close()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_SENTINELS": "a:1", "REDIS_CLUSTER_NODES": "b:2"}, "not both"),
        ({"REDIS_SENTINELS": "a:1", "REDIS_URL": "redis://x/0"}, "REDIS_URL and REDIS_SENTINELS"),
        ({"REDIS_CLUSTER_NODES": "b", "REDIS_DB": "2"}, "REDIS_DB must be 0"),
        ({"REDIS_SENTINEL_MASTER": "m"}, "REDIS_SENTINEL_MASTER is set but REDIS_SENTINELS"),
        ({"REDIS_SENTINEL_PASSWORD": "x"}, "REDIS_SENTINEL_PASSWORD is set but"),
        ({"REDIS_SENTINELS": "a:1", "REDIS_SENTINEL_MASTER": "two words"}, "must be a name"),
        ({"REDIS_SENTINELS": "a:port"}, "comma-separated list of host:port"),
        ({"REDIS_SENTINELS": "a:1,,b:2"}, "comma-separated list of host:port"),
        ({"REDIS_CLUSTER_NODES": "a:70000"}, "between 1 and 65535"),
        ({"REDIS_CLUSTER_NODES": "user@a:1"}, "comma-separated list of host:port"),
    ],
)
def test_bad_topology_variables(env: dict[str, str], message: str) -> None:
    """Each mistake is one ConfigurationError naming the variable, at start-up."""
    with pytest.raises(ConfigurationError, match=message):
        RedisSettings.from_env(env)


def test_addresses_parser() -> None:
    """Unset is empty; a bare host takes the default port; IPv6 goes in brackets."""
    assert addresses({}, "X", 1) == ()
    assert addresses({"X": " h "}, "X", 5) == (("h", 5),)
    assert addresses({"X": "[fe80::1]"}, "X", 5) == (("fe80::1", 5),)
