"""Redis clients for the topology the settings name: one server, Sentinel, or Cluster.

Every Redis user of the kit (the container, auth, rate limits, compat ``RedisConnect``,
backup's replicas lock, ``doctor``) builds its client here, so all of them follow a failover
the same way:

* **one server** (``REDIS_URL`` or ``REDIS_HOST``...): :class:`redis.Redis` over one pool;
* **Sentinel** (``REDIS_SENTINELS``): :class:`redis.Redis` over a
  :class:`~redis.sentinel.SentinelConnectionPool`, which asks the sentinels for the current
  master on every new connection: after a failover the pooled connections fail once, are
  dropped, and the next ones reach the promoted replica (redis-py's default retries with
  backoff usually hide the switch from the caller);
* **Cluster** (``REDIS_CLUSTER_NODES``): :class:`~redis.cluster.RedisCluster`, routing each
  command by its key's hash slot. Only database 0 exists: see :func:`key_prefix_for_db`.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.connection import parse_url
from redis.sentinel import Sentinel, SentinelConnectionPool

from rainbond_kit.errors import ConfigurationError
from rainbond_kit.settings import RedisSettings

__all__ = [
    "RedisClient",
    "connect_cluster",
    "connect_redis",
    "connection_pool",
    "key_prefix_for_db",
]

#: What :func:`connect_redis` returns: both answer the usual single-key commands and scripts.
RedisClient: TypeAlias = redis.Redis | RedisCluster


def _url_parts(settings: RedisSettings) -> dict[str, Any]:
    parts: dict[str, Any] = parse_url(settings.url)  # type: ignore[no-untyped-call]  # unannotated in redis-py
    return parts


def _timeouts(settings: RedisSettings) -> dict[str, Any]:
    return {
        "socket_timeout": settings.socket_timeout,
        "socket_connect_timeout": settings.socket_timeout,
    }


def connection_pool(
    settings: RedisSettings, db: int | None = None, **options: Any
) -> redis.ConnectionPool:
    """A pool of connections to the server (or Sentinel's current master), database ``db``.

    ``db`` defaults to the settings' own. Not for a Cluster (each node has its own pool).

    :param options: extra connection keyword arguments (``decode_responses`` ...).
    """
    if settings.mode == "cluster":
        raise ConfigurationError("a Redis Cluster has no single connection pool")
    kwargs: dict[str, Any] = {
        **_timeouts(settings),
        "health_check_interval": 30,
        **_url_parts(settings),
        **options,
    }
    if db is not None:
        kwargs["db"] = db
    if settings.mode == "standalone":
        return redis.ConnectionPool(**kwargs)
    for address in ("host", "port"):  # the URL's host is a placeholder: the sentinels say
        kwargs.pop(address, None)
    sentinel_kwargs = {**_timeouts(settings), "password": settings.sentinel_password}
    sentinel = Sentinel(  # type: ignore[no-untyped-call]  # unannotated in redis-py
        list(settings.sentinels), sentinel_kwargs=sentinel_kwargs
    )
    return SentinelConnectionPool(  # type: ignore[no-untyped-call]  # unannotated in redis-py
        settings.sentinel_master, sentinel, **kwargs
    )


def connect_redis(
    settings: RedisSettings, *, db: int | None = None, decode_responses: bool = True, **options: Any
) -> RedisClient:
    """A client for ``settings``' topology (database ``db``, default the settings' own).

    :raises ConfigurationError: ``db`` other than 0 on a Cluster.
    """
    if settings.mode != "cluster":
        pool = connection_pool(settings, db, decode_responses=decode_responses, **options)
        return redis.Redis.from_pool(pool)
    return connect_cluster(settings, db=db, decode_responses=decode_responses, **options)


def connect_cluster(
    settings: RedisSettings, *, db: int | None = None, decode_responses: bool = True, **options: Any
) -> RedisCluster:
    """A Cluster client over ``settings.cluster_nodes`` (start-up nodes; the rest is discovered).

    :raises ConfigurationError: ``db`` other than 0, or no ``cluster_nodes``.
    """
    if not settings.cluster_nodes:
        raise ConfigurationError("a Redis Cluster client needs REDIS_CLUSTER_NODES")
    if db:
        raise ConfigurationError(
            f"a Redis Cluster has only database 0, not {db}: use a key prefix instead"
        )
    parts = _url_parts(settings)
    nodes = [
        ClusterNode(host, port)  # type: ignore[no-untyped-call]  # unannotated in redis-py
        for host, port in settings.cluster_nodes
    ]
    return RedisCluster(
        startup_nodes=nodes,
        username=parts.get("username"),
        password=parts.get("password"),
        decode_responses=decode_responses,
        **_timeouts(settings),
        **options,
    )


def key_prefix_for_db(settings: RedisSettings, db: int, explicit: str | None = None) -> str:
    """The prefix that stands in for database ``db``: ``explicit`` if given, else ``db<N>:`` on
    a Cluster (which has only database 0) and ``""`` elsewhere (the database itself separates).
    """
    if explicit is not None:
        return explicit
    return f"db{db}:" if settings.mode == "cluster" and db else ""
