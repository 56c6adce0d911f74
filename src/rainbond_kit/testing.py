"""pytest fixtures for apps built on rainbond-kit: real MongoDB (wire) and Redis servers.

Enable in a ``conftest.py``::

    pytest_plugins = ["rainbond_kit.testing"]

``MONGODB_URI`` / ``REDIS_URL`` (or ``REDIS_HOST``) point the fixtures at existing servers;
otherwise they start SecantusDB and ``redis-server`` as child processes on free ports, once
per test session. Every test gets its own database (dropped afterwards).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pymongo
import pytest

from rainbond_kit.embedded import RedisProcess, running_mongo
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.settings import RedisSettings, Settings

__all__ = [
    "mongo_client",
    "mongo_db_name",
    "mongo_uri",
    "rainbond_env",
    "rainbond_settings",
    "redis_url",
]


@pytest.fixture(scope="session")
def mongo_uri() -> Iterator[str]:
    """URI of a MongoDB wire server: ``MONGODB_URI`` if set, else a SecantusDB child process."""
    with running_mongo() as uri:
        yield uri


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a Redis server: ``REDIS_URL``/``REDIS_HOST`` if set, else ``redis-server`` from PATH."""
    if os.environ.get("REDIS_URL", "").strip() or os.environ.get("REDIS_HOST", "").strip():
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
