"""Testing apps built on rainbond-kit: client overrides, and real MongoDB (wire) and Redis servers.

Swap the store clients of an app for fakes (or other servers) with :func:`override`; every
singleton built over the old clients is reset on the way in and out::

    with override(app, mongo_client=mongomock.MongoClient(), redis_client=fakeredis.FakeRedis()):
        assert app.test_client().get("/api/v1/books").status_code == 200

An app factory that goes on to ``init_auth`` (which registers permissions in MongoDB) needs
the clients in place from ``init_app`` on: build it inside :func:`override_on_init`::

    with override_on_init(mongo_client=mongomock.MongoClient(), redis_client=fakeredis.FakeRedis()):
        app = create_app()

Auth helpers (an auth center in the test stores, users with tokens: ``kit_auth_center``,
``kit_user``) are in :mod:`rainbond_kit.testing.auth`.

Enable in a ``conftest.py``::

    pytest_plugins = ["rainbond_kit.testing"]

``MONGODB_URI`` / ``REDIS_URL`` (or ``REDIS_HOST``) point the fixtures at existing servers;
otherwise they start SecantusDB and ``redis-server`` as child processes on free ports, once
per test session. Every test gets its own database (dropped afterwards).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pymongo
import pytest
from flask import Flask

from rainbond_kit.auth.container import AuthContainer, get_auth_container
from rainbond_kit.containers import Container
from rainbond_kit.embedded import RedisProcess, running_mongo
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.extension_state import add_init_hook, get_state
from rainbond_kit.redis_client import RedisClient
from rainbond_kit.settings import RedisSettings, Settings
from rainbond_kit.testing.auth import AuthCenter, kit_auth_center, kit_user

__all__ = [
    "AuthCenter",
    "kit_auth_center",
    "kit_user",
    "mongo_client",
    "mongo_db_name",
    "mongo_uri",
    "override",
    "override_on_init",
    "override_stores",
    "rainbond_env",
    "rainbond_settings",
    "redis_url",
]


def _reset_dependents(app: Flask, container: Container, auth: AuthContainer) -> None:
    """Drop every singleton built over the store clients, and the created-indexes record."""
    container.mongo_db.reset()
    auth.db.reset()
    auth.cache.reset()
    get_state(app).indexed.clear()


@contextlib.contextmanager
def override(
    app: Flask,
    *,
    mongo_client: pymongo.MongoClient[Any] | None = None,
    redis_client: RedisClient | None = None,
    auth_redis_client: RedisClient | None = None,
) -> Iterator[Container]:
    """Use these clients in ``app`` inside the block; yield the app's container.

    Everything built over the replaced clients (the default database, the auth center's
    database, the permission cache, the rate limiter, the created-indexes record) is reset on
    entry and again on exit, so nothing built over a fake outlives the block nor anything
    built before it leaks in. ``redis_client`` also serves the auth center's sessions unless
    ``auth_redis_client`` is given, and switches the Redis-backed features on.
    """
    state = get_state(app)
    container = state.container
    auth = get_auth_container(app)
    redis_enabled = state.redis_enabled
    auth_redis_client = auth_redis_client or redis_client
    with contextlib.ExitStack() as stack:
        if mongo_client is not None:
            stack.enter_context(container.mongo_client.override(mongo_client))
        if redis_client is not None:
            stack.enter_context(container.redis_client.override(redis_client))
            state.redis_enabled = True
        if auth_redis_client is not None:
            stack.enter_context(auth.redis.override(auth_redis_client))
        _reset_dependents(app, container, auth)
        try:
            yield container
        finally:
            state.redis_enabled = redis_enabled
            _reset_dependents(app, container, auth)


@contextlib.contextmanager
def override_on_init(
    *,
    mongo_client: pymongo.MongoClient[Any] | None = None,
    redis_client: RedisClient | None = None,
    auth_redis_client: RedisClient | None = None,
) -> Iterator[list[Flask]]:
    """Every app initialised inside the block uses these clients from its ``init_app`` on.

    :func:`override` applied by ``RainbondKit.init_app`` itself, before the rest of an app
    factory runs (``init_auth`` registering permissions, a seed): the scaffold's override
    pattern with auth on. Undone on exit; yields the apps initialised so far.
    """
    clients: dict[str, Any] = {
        "mongo_client": mongo_client,
        "redis_client": redis_client,
        "auth_redis_client": auth_redis_client,
    }
    apps: list[Flask] = []
    with contextlib.ExitStack() as stack:

        def hook(app: Flask) -> None:
            apps.append(app)
            stack.enter_context(override(app, **clients))

        stack.callback(add_init_hook(hook))
        yield apps


#: What the :func:`override_stores` fixture yields: ``(app, mongo_client=..., redis_client=...)``.
OverrideStores = Callable[..., Container]


@pytest.fixture
def override_stores() -> Iterator[OverrideStores]:
    """Factory: ``override_stores(app, mongo_client=..., redis_client=...)`` -> the container.

    :func:`override` for the rest of the test, undone at teardown.
    """
    with contextlib.ExitStack() as stack:

        def apply(app: Flask, **clients: Any) -> Container:
            return stack.enter_context(override(app, **clients))

        yield apply


@pytest.fixture(scope="session")
def mongo_uri() -> Iterator[str]:
    """URI of a MongoDB wire server: ``MONGODB_URI`` if set, else a SecantusDB child process."""
    with running_mongo() as uri:
        yield uri


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a Redis server: the configured one (``REDIS_URL``, ``REDIS_URI``, ``REDIS_HOST``, ...)
    if any, else ``redis-server`` from PATH."""
    if RedisSettings.from_env(os.environ).configured:
        yield RedisSettings.from_env(os.environ).url
        return
    try:
        server = RedisProcess()
    except ConfigurationError as exc:
        pytest.fail(str(exc), pytrace=False)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mongo_client(mongo_uri: str) -> Iterator[pymongo.MongoClient[dict[str, Any]]]:
    """A tz-aware client to the test server, for arranging data and checking results."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        mongo_uri, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    yield client
    client.close()


@pytest.fixture
def mongo_db_name(mongo_client: pymongo.MongoClient[dict[str, Any]]) -> Iterator[str]:
    """A fresh database name for this test; the database is dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    mongo_client.drop_database(name)


@pytest.fixture
def rainbond_env(mongo_uri: str, mongo_db_name: str, redis_url: str) -> dict[str, str]:
    """The environment Rainbond would inject, pointing at the test servers."""
    return {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name, "REDIS_URL": redis_url}


@pytest.fixture
def rainbond_settings(rainbond_env: dict[str, str]) -> Settings:
    """:class:`~rainbond_kit.settings.Settings` for the test servers and this test's database."""
    return Settings.from_env(rainbond_env)
