"""``RedisConnect(db=0)``: rainbond-python's Redis helper over a shared connection pool.

Fixed: ``db`` is honoured (the original always used database 0); the server comes from
the same variables as the rest of rainbond-kit (``REDIS_URL``, or ``REDIS_HOST``/
``REDIS_PORT``/``REDIS_PASSWORD``); instances share one pool per server and database;
``connect()`` no longer sends a probe ``GET`` before every command; an unreachable server
is a 503 envelope ("Redis 连接失败") instead of a 500. ``REDIS_SENTINELS`` and
``REDIS_CLUSTER_NODES`` work here too; a Cluster has only database 0, so ``db`` must be 0 there
(a ``ConfigurationError`` otherwise).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import redis
import redis.exceptions

from rainbond_kit.compat.clients import renamed_env, shared_cluster, shared_pool
from rainbond_kit.data.store_errors import http_error_for
from rainbond_kit.redis_client import RedisClient
from rainbond_kit.settings import RedisSettings

__all__ = ["RedisConnect"]


def _command(name: str, doc: str) -> Callable[..., Any]:
    """A ``RedisConnect`` method running the client's ``name`` command (one round trip)."""

    def method(self: RedisConnect, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.connect(), name)(*args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise http_error_for(exc, store="redis", unavailable="Redis 连接失败") or exc from None

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = doc
    return method


class RedisConnect:
    """Thin Redis helper; each ``*_`` method is one command (one round trip).

    :param host_key: name of the variable holding the host (and ``port_key``,
        ``password`` likewise), as in the original; the defaults read rainbond-kit's usual
        variables, ``REDIS_URL`` included.
    :param kwargs: extra ``redis.ConnectionPool`` options.
    """

    def __init__(
        self,
        db: int = 0,
        host_key: str = "REDIS_HOST",
        port_key: str = "REDIS_PORT",
        password: str = "REDIS_PASSWORD",  # noqa: S107 - a variable name, not a secret
        decode_responses: bool = True,
        **kwargs: Any,
    ) -> None:
        env = renamed_env(
            [("REDIS_HOST", host_key), ("REDIS_PORT", port_key), ("REDIS_PASSWORD", password)]
        )
        settings = RedisSettings.from_env(os.environ if env is None else env)
        self.db = db
        self._client: RedisClient
        if settings.mode == "cluster":
            self._client = shared_cluster(settings, db, decode_responses=decode_responses, **kwargs)
        else:
            pool = shared_pool(settings, db, decode_responses=decode_responses, **kwargs)
            self._client = redis.Redis(connection_pool=pool)

    @property
    def pool(self) -> redis.ConnectionPool:
        """The shared connection pool (one server or Sentinel; a Cluster has one per node)."""
        if isinstance(self._client, redis.Redis):
            return self._client.connection_pool
        raise AttributeError("a Redis Cluster has one connection pool per node: use connect()")

    def connect(self) -> RedisClient:
        """The client bound to this instance's database (no round trip)."""
        return self._client

    mset_ = _command("mset", "``MSET``: ``mset_({'k1': 'v1', 'k2': 'v2'})``.")
    getset_ = _command("getset", "``GETSET``: set a new value, return the old one.")
    get_ = _command("get", "``GET``.")
    mget_ = _command("mget", "``MGET``: ``mget_('k1', 'k2')`` or ``mget_(['k1', 'k2'])``.")
    delete_ = _command("delete", "``DEL``.")
    incr_ = _command("incr", "``INCRBY``: ``incr_('foo', amount=1)``.")
    decr_ = _command("decr", "``DECRBY``: ``decr_('foo', amount=3)``.")
    lpush_ = _command("lpush", "``LPUSH``: ``lpush_('list1', 11, 22, 33)``.")
    rpush_ = _command("rpush", "``RPUSH``: ``rpush_('list2', 11, 22, 33)``.")
    lpop_ = _command("lpop", "``LPOP``.")
    rpop_ = _command("rpop", "``RPOP``.")
    exists_ = _command("exists", "``EXISTS``: how many of the names exist.")
    expire_ = _command("expire", "``EXPIRE``: ``expire_('list5', time=3)``.")
