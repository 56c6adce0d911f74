"""Process-wide Redis connection pools, one per (server, database, options).

For code that needs a Redis database other than the app's (the compat layer's
``RedisConnect(db=3)``): every caller asking for the same server and database shares one
pool, so instances are cheap and connections are reused. redis-py pools notice a fork
and reopen their sockets in the child. :func:`close_pools` disconnects them all (it also
runs at interpreter exit).
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

import redis
from redis.connection import parse_url

from rainbond_kit.settings import RedisSettings

__all__ = ["close_pools", "shared_pool"]

_pools: dict[tuple[Any, ...], redis.ConnectionPool] = {}
_lock = threading.Lock()


def shared_pool(settings: RedisSettings, db: int, **options: Any) -> redis.ConnectionPool:
    """Return the pool for ``settings.url`` with database ``db`` (the URL's own is ignored).

    :param options: extra ``redis.ConnectionPool`` keyword arguments (``decode_responses``,
        ``max_connections`` ...); they are part of the pool's identity.
    :raises ValueError: ``db`` is negative.
    """
    if isinstance(db, bool) or not isinstance(db, int) or db < 0:
        raise ValueError(f"db must be a non-negative integer, got {db!r}")
    key = (settings.url, db, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            kwargs: dict[str, Any] = {
                "socket_timeout": settings.socket_timeout,
                "socket_connect_timeout": settings.socket_timeout,
                "health_check_interval": 30,
                **parse_url(settings.url),  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                **options,
                "db": db,
            }
            pool = _pools[key] = redis.ConnectionPool(**kwargs)
        return pool


def close_pools() -> None:
    """Disconnect and forget every shared pool (idempotent)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.disconnect()


atexit.register(close_pools)
