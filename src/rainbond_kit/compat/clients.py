"""compat's one client registry: pooled MongoDB clients and Redis pools shared per process.

``DBConnect`` and ``RedisConnect`` outside a RainbondKit app (or with their own variable
names) need clients of their own: every instance naming the same server shares one MongoDB
client (built by the core's :func:`~rainbond_kit.containers.create_mongo_client`) or one
Redis pool per database. Clients are closed at exit and never reused after a fork.

Custom variable names have one precedence for both: when a caller names its own variables
(``home_key=``, ``host_key=`` ...), those variables are the only source of the connection
(the ``*_URI``/``*_URL`` variables are not consulted); with the default names, the kit's
usual variables apply, URI first.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Sequence
from typing import Any

import pymongo
import redis
from redis.cluster import RedisCluster

from rainbond_kit.containers import create_mongo_client
from rainbond_kit.redis_client import connect_cluster, connection_pool
from rainbond_kit.settings import MongoSettings, RedisSettings

__all__ = ["close_pools", "renamed_env", "shared_cluster", "shared_mongo_client", "shared_pool"]

_pools: dict[tuple[Any, ...], redis.ConnectionPool] = {}
_clusters: dict[tuple[Any, ...], RedisCluster] = {}
_mongo_clients: dict[str, pymongo.MongoClient[dict[str, Any]]] = {}
_mongo_closers = contextlib.ExitStack()
_lock = threading.Lock()


def renamed_env(names: Sequence[tuple[str, str]]) -> dict[str, str] | None:
    """The variables a settings reader should see when a caller renamed some of them.

    ``names`` pairs each standard name with the caller's; ``None`` when none was renamed
    (read the process environment as usual). Otherwise only these variables, read from the
    caller's names: custom names are the whole source (see the module docstring).
    """
    if all(standard == custom for standard, custom in names):
        return None
    return {standard: os.environ.get(custom, "") for standard, custom in names}


def shared_mongo_client(settings: MongoSettings) -> pymongo.MongoClient[dict[str, Any]]:
    """The process's client for ``settings.uri`` (one per server)."""
    with _lock:
        client = _mongo_clients.get(settings.uri)
        if client is None:
            client = _mongo_clients[settings.uri] = create_mongo_client(settings, _mongo_closers)
        return client


def _check_db(db: int) -> None:
    if isinstance(db, bool) or not isinstance(db, int) or db < 0:
        raise ValueError(f"db must be a non-negative integer, got {db!r}")


def _identity(settings: RedisSettings, db: int, options: dict[str, Any]) -> tuple[Any, ...]:
    return (settings, db, tuple(sorted((k, repr(v)) for k, v in options.items())))


def shared_pool(settings: RedisSettings, db: int, **options: Any) -> redis.ConnectionPool:
    """Return the pool for ``settings`` with database ``db`` (the URL's own is ignored).

    One server or Sentinel's master (a Cluster has a pool per node: :func:`shared_cluster`).

    :param options: extra ``redis.ConnectionPool`` keyword arguments (``decode_responses``,
        ``max_connections`` ...); they are part of the pool's identity.
    :raises ValueError: ``db`` is negative.
    """
    _check_db(db)
    key = _identity(settings, db, options)
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = connection_pool(settings, db, **options)
        return pool


def shared_cluster(settings: RedisSettings, db: int, **options: Any) -> RedisCluster:
    """Return the process's Cluster client for ``settings`` (``db`` must be 0).

    :raises ConfigurationError: ``db`` is not 0 (a Cluster has only database 0).
    """
    _check_db(db)
    key = _identity(settings, db, options)
    with _lock:
        client = _clusters.get(key)
        if client is None:
            client = _clusters[key] = connect_cluster(settings, db=db, **options)
        return client


def close_pools() -> None:
    """Disconnect and forget every shared pool and client (idempotent)."""
    with _lock:
        pools = list(_pools.values())
        clusters = list(_clusters.values())
        _pools.clear()
        _clusters.clear()
        _mongo_clients.clear()
    for pool in pools:
        pool.disconnect()
    for cluster in clusters:
        cluster.close()
    _mongo_closers.close()


def _forget_inherited() -> None:
    _mongo_clients.clear()  # never reuse a parent's sockets (redis-py pools reopen by themselves)


atexit.register(close_pools)
os.register_at_fork(after_in_child=_forget_inherited)
