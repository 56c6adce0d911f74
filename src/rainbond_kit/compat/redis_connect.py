"""``RedisConnect(db=0)``: rainbond-python's Redis helper over a shared connection pool.

Fixed: ``db`` is honoured (the original always used database 0); the server comes from
the same variables as the rest of rainbond-kit (``REDIS_URL``, or ``REDIS_HOST``/
``REDIS_PORT``/``REDIS_PASSWORD``); instances share one pool per server and database;
``connect()`` no longer sends a probe ``GET`` before every command; an unreachable server
is a 503 envelope ("Redis 连接失败") instead of a 500.
"""

from __future__ import annotations

import os
from typing import Any

import redis
import redis.exceptions

from rainbond_kit.errors import ServiceUnavailableError
from rainbond_kit.redis_pools import shared_pool
from rainbond_kit.settings import RedisSettings

__all__ = ["RedisConnect"]

_DEFAULT_KEYS = ("REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD")


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
        keys = (host_key, port_key, password)
        if keys == _DEFAULT_KEYS:
            settings = RedisSettings.from_env(os.environ)
        else:
            env = {
                default: os.environ.get(custom, "")
                for default, custom in zip(_DEFAULT_KEYS, keys, strict=True)
            }
            settings = RedisSettings.from_env(env)
        self.db = db
        self.pool = shared_pool(settings, db, decode_responses=decode_responses, **kwargs)
        self._client = redis.Redis(connection_pool=self.pool)

    def connect(self) -> redis.Redis:
        """The client bound to this instance's database (no round trip)."""
        return self._client

    def _run(self, command: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, command)(*args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            raise ServiceUnavailableError("Redis 连接失败") from None

    def mset_(self, *args: Any, **kwargs: Any) -> Any:
        """``MSET``: ``mset_({'k1': 'v1', 'k2': 'v2'})``."""
        return self._run("mset", *args, **kwargs)

    def getset_(self, *args: Any, **kwargs: Any) -> Any:
        """``GETSET``: set a new value, return the old one."""
        return self._run("getset", *args, **kwargs)

    def get_(self, *args: Any, **kwargs: Any) -> Any:
        """``GET``."""
        return self._run("get", *args, **kwargs)

    def mget_(self, *args: Any, **kwargs: Any) -> Any:
        """``MGET``: ``mget_('k1', 'k2')`` or ``mget_(['k1', 'k2'])``."""
        return self._run("mget", *args, **kwargs)

    def delete_(self, *args: Any, **kwargs: Any) -> Any:
        """``DEL``."""
        return self._run("delete", *args, **kwargs)

    def incr_(self, *args: Any, **kwargs: Any) -> Any:
        """``INCRBY``: ``incr_('foo', amount=1)``."""
        return self._run("incr", *args, **kwargs)

    def decr_(self, *args: Any, **kwargs: Any) -> Any:
        """``DECRBY``: ``decr_('foo', amount=3)``."""
        return self._run("decr", *args, **kwargs)

    def lpush_(self, *args: Any, **kwargs: Any) -> Any:
        """``LPUSH``: ``lpush_('list1', 11, 22, 33)``."""
        return self._run("lpush", *args, **kwargs)

    def rpush_(self, *args: Any, **kwargs: Any) -> Any:
        """``RPUSH``: ``rpush_('list2', 11, 22, 33)``."""
        return self._run("rpush", *args, **kwargs)

    def lpop_(self, *args: Any, **kwargs: Any) -> Any:
        """``LPOP``."""
        return self._run("lpop", *args, **kwargs)

    def rpop_(self, *args: Any, **kwargs: Any) -> Any:
        """``RPOP``."""
        return self._run("rpop", *args, **kwargs)

    def exists_(self, *args: Any) -> Any:
        """``EXISTS``: how many of the names exist."""
        return self._run("exists", *args)

    def expire_(self, *args: Any, **kwargs: Any) -> Any:
        """``EXPIRE``: ``expire_('list5', time=3)``."""
        return self._run("expire", *args, **kwargs)
