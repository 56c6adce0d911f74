"""The object graph: settings -> MongoDB and Redis clients -> repositories.

One pooled client of each kind per process. Clients are created lazily on first use (thread-safe
singletons: simultaneous first requests build one client),
so a gunicorn master that imports the app (``--preload``) opens nothing; if it did, the
fork hook installed by :func:`track` drops the inherited
instances in the child (without closing the parent's sockets) and the child builds its
own. :func:`shutdown` closes whatever this process opened.

Tests swap the clients with :func:`rainbond_kit.testing.override`, which also resets every
singleton built over them.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import weakref
from collections.abc import Sequence
from typing import Any

import pymongo
from dependency_injector import containers, providers
from pymongo import monitoring
from pymongo.database import Database
from pymongo.uri_parser import parse_uri

from rainbond_kit.data.observe import StoreObserver
from rainbond_kit.data.repository import MongoRepository
from rainbond_kit.redis_client import RedisClient, connect_redis
from rainbond_kit.settings import MongoSettings, RedisSettings, Settings

__all__ = [
    "Container",
    "create_mongo_client",
    "create_redis_client",
    "database",
    "shutdown",
    "track",
]


#: how much longer than ``maxTimeMS`` the client waits for a reply before giving up
SOCKET_TIMEOUT_MARGIN_MS = 3000


def create_mongo_client(
    settings: MongoSettings,
    closers: contextlib.ExitStack,
    event_listeners: Sequence[monitoring._EventListener] = (),
) -> pymongo.MongoClient[dict[str, Any]]:
    """One pooled, tz-aware client; URI options win over these defaults.

    ``socketTimeoutMS`` defaults to the query time limit plus 3 s (28 s by default): a query
    MongoDB stops at ``maxTimeMS`` answers first, and a server that stops answering
    altogether fails the request before gunicorn's 30 s worker timeout kills the worker.

    :param event_listeners: pymongo monitoring listeners of this client only (metrics).
    """
    uri_options = {k.lower() for k in parse_uri(settings.uri, warn=False)["options"]}
    defaults: dict[str, Any] = {
        "serverSelectionTimeoutMS": settings.server_selection_timeout_ms,
        "connectTimeoutMS": 5000,
        "socketTimeoutMS": settings.query_timeout_ms + SOCKET_TIMEOUT_MARGIN_MS,
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


def database(client: pymongo.MongoClient[dict[str, Any]], name: str) -> Database[dict[str, Any]]:
    """The database ``name`` of ``client``."""
    return client.get_database(name)


def create_redis_client(settings: RedisSettings, closers: contextlib.ExitStack) -> RedisClient:
    """One pooled client (one server, Sentinel's master or a Cluster); strings decoded."""
    client = connect_redis(settings)
    closers.callback(client.close)
    return client


class Container(containers.DeclarativeContainer):
    """rainbond-kit's providers; one container per Flask app."""

    settings = providers.Dependency(instance_of=Settings)
    closers: providers.Singleton[contextlib.ExitStack[bool | None]] = providers.ThreadSafeSingleton(
        contextlib.ExitStack
    )

    mongo_client = providers.ThreadSafeSingleton(
        create_mongo_client, settings=settings.provided.mongo, closers=closers
    )
    mongo_db = providers.ThreadSafeSingleton(
        database, client=mongo_client, name=settings.provided.mongo.database
    )
    redis_client = providers.ThreadSafeSingleton(
        create_redis_client, settings=settings.provided.redis, closers=closers
    )

    #: hears of each repository operation (the MongoDB metrics; ``None``: metrics off)
    store_observer: providers.Object[StoreObserver | None] = providers.Object(None)

    #: ``container.repository(collection="books", soft_delete=True, indexes=[...])``
    repository = providers.Factory(
        MongoRepository,
        database=mongo_db,
        max_time_ms=settings.provided.mongo.query_timeout_ms,
        observer=store_observer,
    )


def shutdown(container: Container) -> None:
    """Close the clients this process opened (idempotent)."""
    container.closers().close()
    container.reset_singletons()


_tracked: weakref.WeakSet[containers.Container] = weakref.WeakSet()


def _close_all() -> None:
    for container in list(_tracked):
        closers = getattr(container, "closers", None)
        if closers is not None:
            closers().close()
        container.reset_singletons()


def _drop_inherited_clients() -> None:
    for container in list(_tracked):
        container.reset_singletons()  # the parent's sockets stay the parent's


@functools.cache
def _install_process_hooks() -> None:
    atexit.register(_close_all)
    os.register_at_fork(after_in_child=_drop_inherited_clients)


def track(container: containers.Container) -> None:
    """Close ``container``'s clients at exit and drop them in a forked child.

    The ``atexit`` and at-fork hooks are installed once per process; containers are held
    weakly.
    """
    _install_process_hooks()
    _tracked.add(container)
