"""The object graph: settings -> MongoDB and Redis clients -> repositories.

One pooled client of each kind per process. Clients are created lazily on first use,
so a gunicorn master that imports the app (``--preload``) opens nothing; if it did, the
fork hook installed by :class:`~rainbond_kit.extension.RainbondKit` drops the inherited
instances in the child (without closing the parent's sockets) and the child builds its
own. :func:`shutdown` closes whatever this process opened.

Every provider can be overridden in tests::

    with get_container(app).mongo_client.override(mongomock.MongoClient()):
        ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import pymongo
import redis
from dependency_injector import containers, providers
from pymongo import monitoring
from pymongo.database import Database
from pymongo.uri_parser import parse_uri

from rainbond_kit.auth.cache import RecordCache
from rainbond_kit.auth.settings import AuthSettings
from rainbond_kit.auth.stores import redis_settings_for_db
from rainbond_kit.repository import MongoRepository
from rainbond_kit.settings import MongoSettings, RedisSettings, Settings

__all__ = ["Container", "create_mongo_client", "create_redis_client", "shutdown"]


def create_mongo_client(
    settings: MongoSettings,
    closers: contextlib.ExitStack,
    event_listeners: Sequence[monitoring._EventListener] = (),
) -> pymongo.MongoClient[dict[str, Any]]:
    """One pooled, tz-aware client; URI options win over these defaults.

    :param event_listeners: pymongo monitoring listeners of this client only (metrics).
    """
    uri_options = {k.lower() for k in parse_uri(settings.uri, warn=False)["options"]}
    defaults: dict[str, Any] = {
        "serverSelectionTimeoutMS": settings.server_selection_timeout_ms,
        "connectTimeoutMS": 5000,
        "socketTimeoutMS": 30000,
        "appname": "rainbond-kit",
    }
    kwargs = {k: v for k, v in defaults.items() if k.lower() not in uri_options}
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        settings.uri,
        tz_aware=True,
        connect=False,
        event_listeners=list(event_listeners),
        **kwargs,
    )
    closers.callback(client.close)
    return client


def _database(client: pymongo.MongoClient[dict[str, Any]], name: str) -> Database[dict[str, Any]]:
    return client.get_database(name)


def create_redis_client(settings: RedisSettings, closers: contextlib.ExitStack) -> redis.Redis:
    """One client over one connection pool; strings decoded, bounded timeouts."""
    client = redis.Redis.from_url(
        settings.url,
        decode_responses=True,
        socket_timeout=settings.socket_timeout,
        socket_connect_timeout=settings.socket_timeout,
        health_check_interval=30,
    )
    closers.callback(client.close)
    return client


class Container(containers.DeclarativeContainer):
    """rainbond-kit's providers; one container per Flask app."""

    settings = providers.Dependency(instance_of=Settings)
    config = providers.Configuration()
    closers: providers.Singleton[contextlib.ExitStack[bool | None]] = providers.Singleton(
        contextlib.ExitStack
    )

    mongo_client = providers.Singleton(
        create_mongo_client, settings=settings.provided.mongo, closers=closers
    )
    mongo_db = providers.Singleton(
        _database, client=mongo_client, name=settings.provided.mongo.database
    )
    redis_client = providers.Singleton(
        create_redis_client, settings=settings.provided.redis, closers=closers
    )

    #: ``container.repository(collection="books", soft_delete=True, indexes=[...])``
    repository = providers.Factory(MongoRepository, database=mongo_db)

    # --- auth ---
    # Auth-center integration (rainbond_kit.auth). Settings are read from the environment on
    # first use; ``init_auth(app)`` validates them at start-up and overrides this provider.
    # The auth center's Redis database lives on the REDIS_* server; its MongoDB database is
    # reached through the shared client.
    auth_settings = providers.Singleton(AuthSettings.from_env)
    auth_redis = providers.Singleton(
        create_redis_client,
        settings=providers.Callable(
            redis_settings_for_db, settings.provided.redis, auth_settings.provided.tokens.redis_db
        ),
        closers=closers,
    )
    auth_db = providers.Singleton(
        _database, client=mongo_client, name=auth_settings.provided.mongo_db_name
    )
    auth_cache: providers.Singleton[RecordCache[Any]] = providers.Singleton(
        RecordCache, seconds=auth_settings.provided.cache_seconds
    )


def shutdown(container: Container) -> None:
    """Close the clients this process opened (idempotent)."""
    container.closers().close()
    container.reset_singletons()
