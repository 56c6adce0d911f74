"""The auth center's providers, added to an app when auth is first used or initialised.

The core :class:`~rainbond_kit.containers.Container` knows nothing of auth: this container
takes the core's settings, MongoDB client and closers as dependencies, so a test override of
the core's clients reaches auth too.
"""

from __future__ import annotations

import contextlib
from typing import Any, cast

import pymongo
from dependency_injector import containers, providers
from flask import Flask

from rainbond_kit.auth.cache import RecordCache
from rainbond_kit.auth.settings import AuthSettings
from rainbond_kit.auth.stores import redis_settings_for_db
from rainbond_kit.containers import create_redis_client, database, track
from rainbond_kit.extension_state import get_state
from rainbond_kit.redis_client import key_prefix_for_db
from rainbond_kit.settings import Settings

__all__ = ["AuthContainer", "get_auth_container"]

_FEATURE = "auth"


class AuthContainer(containers.DeclarativeContainer):
    """Auth settings, the auth center's Redis database and MongoDB database, the cache."""

    core_settings = providers.Dependency(instance_of=Settings)
    mongo_client: providers.Dependency[pymongo.MongoClient[dict[str, Any]]] = providers.Dependency()
    closers: providers.Dependency[contextlib.ExitStack[bool | None]] = providers.Dependency()

    # Read from the environment on first use; ``init_auth(app)`` validates them at start-up
    # and overrides this provider.
    settings = providers.ThreadSafeSingleton(AuthSettings.from_env)
    # The auth center's Redis database lives on the REDIS_* server.
    redis = providers.ThreadSafeSingleton(
        create_redis_client,
        settings=providers.Callable(
            redis_settings_for_db, core_settings.provided.redis, settings.provided.tokens.redis_db
        ),
        closers=closers,
    )
    #: Put before a uid to make its session key (a Cluster has no database REDIS_DB_PERMISSION).
    session_prefix = providers.Callable(
        key_prefix_for_db,
        core_settings.provided.redis,
        settings.provided.tokens.redis_db,
        settings.provided.tokens.redis_key_prefix,
    )
    db = providers.ThreadSafeSingleton(
        database, client=mongo_client, name=settings.provided.mongo_db_name
    )
    cache: providers.Singleton[RecordCache[Any]] = providers.ThreadSafeSingleton(
        RecordCache, seconds=settings.provided.cache_seconds
    )


def get_auth_container(app: Flask | None = None) -> AuthContainer:
    """The auth providers of ``app`` (default: the current app), added on first use."""
    state = get_state(app)
    found = state.features.get(_FEATURE)
    if found is None:
        with state.lock:
            found = state.features.get(_FEATURE)
            if found is None:
                core = state.container
                found = AuthContainer(
                    core_settings=core.settings,
                    mongo_client=core.mongo_client,
                    closers=core.closers,
                )
                track(found)
                state.features[_FEATURE] = found
    # an instance of a declarative container is a DynamicContainer at run time
    return cast("AuthContainer", found)
