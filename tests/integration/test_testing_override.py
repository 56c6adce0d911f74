"""``rainbond_kit.testing.override``: swapping the store clients takes effect everywhere.

Regression (issue 11): once a resource declared ``INDEXES``, registering its blueprint built
the ``mongo_db`` singleton over the real client, so ``mongo_client.override(...)`` alone still
answered 503. Simultaneous first requests also built several ``MongoClient`` objects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import marshmallow as ma
import mongomock
import pymongo
import pytest
import redis
from bson import ObjectId
from flask import Flask
from flask_smorest import Blueprint

from rainbond_kit import (
    Container,
    RainbondKit,
    Settings,
    get_api,
    get_container,
    wait_for_indexes,
)
from rainbond_kit.auth import AuthSettings, init_auth, mint_token
from rainbond_kit.resource import ResourceView
from rainbond_kit.testing import override

SECRET = "override-secret-" + "k" * 56
CENTER, PERM = "图书中心", "图书管理"


class BookSchema(ma.Schema):
    title = ma.fields.String(required=True)


class Books(ResourceView):
    COLLECTION = "books"
    SCHEMA = BookSchema
    INDEXES = (pymongo.IndexModel([("title", 1)], unique=True, name="title_unique"),)
    PERMISSION = (CENTER, PERM)
    RATE_LIMIT = "2/minute"


class Plain(ResourceView):
    COLLECTION = "plain"
    SCHEMA = BookSchema
    INDEXES = (pymongo.IndexModel([("title", 1)], name="title_idx"),)


class Unindexed(ResourceView):
    COLLECTION = "unindexed"
    SCHEMA = BookSchema


def _auth_settings() -> AuthSettings:
    return AuthSettings.from_env(
        {
            "SECRET_KEY": SECRET,
            "REDIS_DB_PERMISSION": "3",
            "MONGODB_DB_NAME": "center",
            "MONGODB_PERMISSION": "permission",
            "MONGODB_PERMISSIONSET": "permission_set",
            "MONGODB_ROLE": "role",
            "MONGODB_USER": "user",
            "ADMIN_USER": "administrator",
        }
    )


@pytest.fixture
def app(offline_settings: Settings) -> Iterator[Flask]:
    """Indexes, auth and a rate limit configured; the configured servers do not exist."""
    app = Flask("override")
    app.config["TESTING"] = True
    RainbondKit(app, settings=offline_settings)
    init_auth(app, _auth_settings())
    blp = Blueprint("books", __name__, url_prefix="/books")
    Books.register(blp)
    plain = Blueprint("plain", __name__, url_prefix="/plain")
    Plain.register(plain)
    get_api(app).register_blueprint(blp)
    get_api(app).register_blueprint(plain)
    yield app
    RainbondKit.shutdown(app)


def _login(mongo: mongomock.MongoClient[Any], sessions: redis.Redis) -> str:
    uid = str(ObjectId())
    center = mongo["center"]
    center.role.insert_one(
        {
            "role_name": "editor",
            "center_name": CENTER,
            "permission_name": PERM,
            "permission_status": [1, 2, 4, 8],
            "is_all_data": True,
        }
    )
    center.user.insert_one({"_id": ObjectId(uid), "role_name": ["editor"], "group_name": []})
    sessions.set(uid, f"{uid}--alice--Alice")
    return mint_token(SECRET, uid, "alice", "Alice")


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client to the test Redis server (emptied afterwards); the app's settings name none."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.flushdb()
    client.close()


def test_override_reaches_indexes_auth_and_rate_limits(
    app: Flask, redis_client: redis.Redis
) -> None:
    """Inside override(): indexes are created on the fake MongoDB, auth reads the overriding
    stores, the rate limit counts in the overriding Redis (third GET: 429)."""
    mongo: mongomock.MongoClient[Any] = mongomock.MongoClient()
    sessions = redis_client
    token = _login(mongo, sessions)
    client = app.test_client()
    with override(app, mongo_client=mongo, redis_client=sessions):
        created = client.post("/books", json={"title": "t"}, headers={"token": token})
        assert created.status_code == 201, created.get_json()
        assert client.get("/books", headers={"token": token}).get_json()["total"] == 1
        assert client.get("/books", headers={"token": token}).status_code == 200
        limited = client.get("/books", headers={"token": token})
        assert limited.status_code == 429
        assert wait_for_indexes(app, timeout=60)
    names = {i["name"] for i in mongo["unit"]["books"].list_indexes()}
    assert "title_unique" in names
    assert mongo["unit"]["books"].count_documents({}) == 1
    assert any("resource:books" in key for key in sessions.scan_iter("*resource:books*"))


def test_override_without_auth_answers_and_is_undone(app: Flask) -> None:
    """A resource with INDEXES answers 200 over the fake; after the block the real (absent)
    server is used again: 503, not the fake's data."""
    mongo: mongomock.MongoClient[Any] = mongomock.MongoClient()
    mongo["unit"]["plain"].insert_one({"title": "kept"})
    client = app.test_client()
    with override(app, mongo_client=mongo) as container:
        assert container is get_container(app)
        body = client.get("/plain").get_json()
        assert [item["title"] for item in body["items"]] == ["kept"]
        assert wait_for_indexes(app, timeout=60)
        assert {i["name"] for i in mongo["unit"]["plain"].list_indexes()} >= {"title_idx"}
    assert client.get("/plain").status_code == 503


def test_two_overrides_in_a_row_do_not_share_state(app: Flask) -> None:
    """A second override gets its own database and its own indexes (nothing stale)."""
    client = app.test_client()
    first: mongomock.MongoClient[Any] = mongomock.MongoClient()
    second: mongomock.MongoClient[Any] = mongomock.MongoClient()
    first["unit"]["plain"].insert_one({"title": "one"})
    with override(app, mongo_client=first):
        assert client.get("/plain").get_json()["total"] == 1
    with override(app, mongo_client=second):
        assert client.get("/plain").get_json()["total"] == 0
        assert wait_for_indexes(app, timeout=60)
    assert {i["name"] for i in second["unit"]["plain"].list_indexes()} >= {"title_idx"}


def test_registration_opens_no_client(
    offline_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registering a resource with INDEXES builds no MongoClient; first use builds one."""
    built: list[object] = []
    real = pymongo.MongoClient

    def counting(*args: Any, **kwargs: Any) -> Any:
        client = real(*args, **kwargs)
        built.append(client)
        return client

    monkeypatch.setattr(pymongo, "MongoClient", counting)
    app = Flask("lazy")
    RainbondKit(app, settings=offline_settings)
    blp = Blueprint("plain", __name__, url_prefix="/plain")
    Plain.register(blp)
    get_api(app).register_blueprint(blp)
    assert built == []
    get_container(app).mongo_db()
    assert len(built) == 1
    RainbondKit.shutdown(app)


def test_simultaneous_first_requests_build_one_client(
    offline_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight threads making the first request together build exactly one MongoClient."""
    built: list[object] = []
    real = mongomock.MongoClient
    lock = threading.Lock()

    def counting(*args: Any, **kwargs: Any) -> Any:
        with lock:
            built.append(object())
        time.sleep(0.05)  # widen the window a racing thread would need (pymongo does I/O here)
        return real()

    monkeypatch.setattr(pymongo, "MongoClient", counting)
    app = Flask("race")
    RainbondKit(app, settings=offline_settings)
    blp = Blueprint("unindexed", __name__, url_prefix="/unindexed")
    Unindexed.register(blp)  # no INDEXES: nothing serialises the first requests
    get_api(app).register_blueprint(blp)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def first_request() -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        statuses.append(client.get("/unindexed").status_code)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 8
    assert len(built) == 1


def test_override_stores_fixture_is_undone_at_teardown(
    app: Flask, override_stores: Callable[..., Container]
) -> None:
    """The fixture applies override() for the rest of the test and returns the container."""
    mongo: mongomock.MongoClient[Any] = mongomock.MongoClient()
    mongo["unit"]["plain"].insert_one({"title": "fixture"})
    container = override_stores(app, mongo_client=mongo)
    assert container.mongo_client() is mongo
    assert app.test_client().get("/plain").get_json()["total"] == 1
