"""Store, rate-limit and auth metrics against real servers (MongoDB wire server, Redis)."""

from __future__ import annotations

import uuid
from typing import Any

import pymongo
import pytest
from flask import Flask, jsonify
from prometheus_client import REGISTRY
from sample_app import create_app

from rainbond_kit import Settings
from rainbond_kit.embedded import RedisProcess
from rainbond_kit.errors import BadRequestError
from rainbond_kit.ratelimit import limit
from tests.conftest import KitAppFactory
from tests.integration.auth_support import (  # noqa: F401 - fixtures
    AuthCenter,
    auth_app_fixture,
    auth_center_fixture,
    own_redis_fixture,
)


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _op(operation: str, collection: str = "books") -> float:
    return _value(
        "rainbond_mongodb_operation_duration_seconds_count",
        operation=operation,
        collection=collection,
    )


def test_mongo_operations_and_indexes_by_default(rainbond_settings: Settings) -> None:
    """With nothing configured, each list counts one find and one count operation and a create
    one insert; no pymongo listener runs (the command metric stays put); /metrics reports the
    declared indexes built; a driver failure is counted and still answered in the envelope."""
    from rainbond_kit import RainbondKit, get_container, wait_for_indexes

    app = create_app(rainbond_settings, {"TESTING": True})
    try:
        client = app.test_client()
        finds, counts, inserts = _op("find"), _op("count"), _op("insert")
        commands = _value(
            "mongodb_command_duration_seconds_count", command="find", collection="books"
        )
        assert client.post("/api/v1/books", json={"title": "t", "author": "a"}).status_code == 201
        assert client.get("/api/v1/books?$count=exact").status_code == 200
        assert client.get("/api/v1/books?$count=none").status_code == 200
        assert (_op("find"), _op("count"), _op("insert")) == (finds + 2, counts + 2, inserts + 1)
        assert (
            _value("mongodb_command_duration_seconds_count", command="find", collection="books")
            == commands
        )
        wait_for_indexes(app)
        text = client.get("/metrics").text
        assert 'rainbond_mongodb_indexes_ready{collection="books"} 1.0' in text
        failures = _value(
            "rainbond_mongodb_operation_failures_total", operation="find", collection="books"
        )
        repository = get_container(app).repository(collection="books")
        with app.test_request_context(), pytest.raises(BadRequestError):
            repository.find({"title": {"$notAnOperator": 1}})
        assert (
            _value(
                "rainbond_mongodb_operation_failures_total", operation="find", collection="books"
            )
            == failures + 1
        )
    finally:
        RainbondKit.shutdown(app)


def test_indexes_not_ready_while_pending_or_in_conflict(
    rainbond_settings: Settings, make_kit_app: KitAppFactory
) -> None:
    """A collection with an index in conflict (or not built yet) reads 0 on /metrics."""
    from rainbond_kit.extension_state import get_state

    app = make_kit_app(rainbond_settings)
    board = get_state(app).indexes.board
    board.declare("probe_conflicts", [pymongo.IndexModel([("sku", 1)], name="sku_1")])
    assert 'rainbond_mongodb_indexes_ready{collection="probe_conflicts"} 0.0' in (
        app.test_client().get("/metrics").text
    )
    board.record("probe_conflicts", "sku_1", "built")
    assert 'rainbond_mongodb_indexes_ready{collection="probe_conflicts"} 1.0' in (
        app.test_client().get("/metrics").text
    )
    board.record("probe_conflicts", "sku_1", "conflict", "code 85")
    assert 'rainbond_mongodb_indexes_ready{collection="probe_conflicts"} 0.0' in (
        app.test_client().get("/metrics").text
    )


def test_command_and_pool_monitoring_opt_in(rainbond_settings: Settings) -> None:
    """RAINBOND_METRICS_MONGO_COMMANDS adds pymongo's per-command metrics (every command the
    client sends) and RAINBOND_METRICS_MONGO_POOL the pool gauges."""
    finds = _value("mongodb_command_duration_seconds_count", command="find", collection="books")
    inserts = _value("mongodb_command_duration_seconds_count", command="insert", collection="books")
    app = create_app(
        rainbond_settings,
        {
            "TESTING": True,
            "RAINBOND_METRICS_MONGO_POOL": "1",
            "RAINBOND_METRICS_MONGO_COMMANDS": "1",
        },
    )
    try:
        client = app.test_client()
        assert client.post("/api/v1/books", json={"title": "t", "author": "a"}).status_code == 201
        assert client.get("/api/v1/books?$count=none").status_code == 200
        assert client.get("/api/v1/books?$count=none").status_code == 200
        assert (
            _value("mongodb_command_duration_seconds_count", command="find", collection="books")
            == finds + 2
        )
        assert (
            _value("mongodb_command_duration_seconds_count", command="insert", collection="books")
            == inserts + 1
        )
        address = rainbond_settings.mongo.uri.split("//")[1].split("/")[0]
        assert _value("mongodb_pool_connections", address=address) >= 1
        assert _value("mongodb_pool_checked_out_connections", address=address) == 0
        assert _value("mongodb_pool_waiting_checkouts", address=address) == 0
    finally:
        from rainbond_kit import RainbondKit

        RainbondKit.shutdown(app)


def test_listeners_are_per_client(rainbond_settings: Settings, make_kit_app: KitAppFactory) -> None:
    """An app with metrics off neither counts its commands nor sees another app's listeners."""
    off = make_kit_app(rainbond_settings, RAINBOND_METRICS=False)
    from rainbond_kit import get_container

    before = _value("mongodb_command_duration_seconds_count", command="find", collection="quiet")
    ops = _op("find_one", "quiet")
    get_container(off).mongo_db()["quiet"].find_one()
    get_container(off).repository(collection="quiet").find_one({})
    assert (
        _value("mongodb_command_duration_seconds_count", command="find", collection="quiet")
        == before
    )
    assert _op("find_one", "quiet") == ops
    on = make_kit_app(rainbond_settings, RAINBOND_METRICS_MONGO_COMMANDS=True)
    get_container(on).mongo_db()["quiet"].find_one()
    get_container(on).repository(collection="quiet").find_one({})
    assert (
        _value("mongodb_command_duration_seconds_count", command="find", collection="quiet")
        == before + 2
    )
    assert _op("find_one", "quiet") == ops + 1


def _limited_app(make_kit_app: KitAppFactory, env: dict[str, str]) -> Flask:
    app = make_kit_app(env, RAINBOND_RATELIMIT="2/minute")

    @app.get("/limited")
    @limit("1/minute", scope=uuid.uuid4().hex)
    def limited() -> Any:
        return jsonify(ok=True)

    return app


def test_ratelimit_rejections_and_metrics_exempt(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str]
) -> None:
    """429s are counted per route; /metrics is never limited by the app-wide default."""
    app = _limited_app(make_kit_app, rainbond_env)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.8.{uuid.uuid4().int % 250}.1"
    before = _value("rainbond_ratelimit_rejections_total", route="/limited")
    assert client.get("/limited").status_code == 200
    assert [client.get("/limited").status_code for _ in range(3)] == [429, 429, 429]
    assert all(client.get("/metrics").status_code == 200 for _ in range(5))
    assert _value("rainbond_ratelimit_rejections_total", route="/limited") == before + 3


def test_redis_errors_counted(
    own_redis: RedisProcess, mongo_uri: str, make_kit_app: KitAppFactory
) -> None:
    """Redis down: each request it fails (503) counts a Redis error by type."""
    app = _limited_app(make_kit_app, {"MONGODB_URI": mongo_uri, "REDIS_URL": own_redis.url})
    client = app.test_client()
    assert client.get("/limited").status_code == 200
    before = _value("redis_command_errors_total", error="ConnectionError")
    own_redis.stop()
    assert [client.get("/limited").status_code for _ in range(2)] == [503, 503]
    assert _value("redis_command_errors_total", error="ConnectionError") == before + 2


def test_auth_failures_by_reason(auth_app: Flask, auth_center: AuthCenter) -> None:
    """Missing token, bad token, ended session, unknown user and missing code: one reason each."""
    auth_center.add_role("viewer", [1])
    client = auth_app.test_client()
    uid = auth_center.add_user(["viewer"], ["g1"])
    good = auth_center.login(uid, "erin")
    ended_uid = auth_center.add_user(["viewer"], ["g1"])
    ended = auth_center.login(ended_uid, "gone")
    auth_center.sessions.delete(ended_uid)
    ghost = str(uuid.uuid4().hex[:24])
    ghost_token = auth_center.login(ghost, "ghost")
    reasons = ("missing_token", "invalid_token", "session_ended", "unknown_user", "forbidden")
    before = {reason: _value("rainbond_auth_failures_total", reason=reason) for reason in reasons}

    control = client.get("/books", headers={"token": good})
    assert control.status_code == 200, control.get_json()  # the control
    assert client.get("/books").status_code == 401
    assert client.get("/books", headers={"token": good[:-4] + "AAAA"}).status_code == 401
    assert client.get("/books", headers={"token": ended}).status_code == 401
    assert client.get("/books", headers={"token": ghost_token}).status_code == 401
    assert client.delete("/books", headers={"token": good}).status_code == 403

    after = {reason: _value("rainbond_auth_failures_total", reason=reason) for reason in reasons}
    assert {reason: after[reason] - before[reason] for reason in reasons} == dict.fromkeys(
        reasons, 1
    )


def test_compat_db_connect_operations_are_observed(
    rainbond_settings: Settings, make_kit_app: KitAppFactory
) -> None:
    """A DBConnect made inside a kit app times its operations into the app's metrics; one made
    in an app with metrics off does not."""
    from rainbond_kit.compat.db_connect import DBConnect

    on = make_kit_app(rainbond_settings)
    off = make_kit_app(rainbond_settings, RAINBOND_METRICS=False)
    inserts = _op("insert", "compat_observed")
    with on.app_context():
        db = DBConnect(rainbond_settings.mongo.database, "compat_observed")
        db.write_one_docu({"name": "a"})
    with off.app_context():
        DBConnect(rainbond_settings.mongo.database, "compat_observed").write_one_docu({"n": 1})
    assert _op("insert", "compat_observed") == inserts + 1
