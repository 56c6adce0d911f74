"""/healthz and /readyz against real servers, including stores going down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rainbond_kit.embedded import MongoProcess, RedisProcess
from tests.conftest import KitAppFactory


def test_both_up(rainbond_env: dict[str, str], make_kit_app: KitAppFactory) -> None:
    """With MongoDB and Redis up, both probes answer 200 and readiness lists both as ok."""
    client = make_kit_app(rainbond_env).test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"mongodb": "ok", "redis": "ok"},
        "indexes": {},
    }


@pytest.fixture
def own_mongo() -> Iterator[MongoProcess]:
    server = MongoProcess()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    yield server
    server.stop()


def test_mongo_down_then_back(
    own_mongo: MongoProcess, redis_url: str, make_kit_app: KitAppFactory
) -> None:
    """Stopping MongoDB makes /readyz 503 naming mongodb; restarting recovers without an app restart."""
    client = make_kit_app(
        {"MONGODB_URI": own_mongo.uri, "REDIS_URL": redis_url}, RAINBOND_READY_TIMEOUT=1.0
    ).test_client()
    assert client.get("/readyz").status_code == 200
    own_mongo.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["message"] == "unavailable: mongodb"
    assert body["checks"] == {"mongodb": "down", "redis": "ok"}
    assert client.get("/healthz").status_code == 200  # liveness is unaffected
    own_mongo.start()
    assert client.get("/readyz").status_code == 200


def test_redis_down_then_back(
    mongo_uri: str, own_redis: RedisProcess, make_kit_app: KitAppFactory
) -> None:
    """Stopping Redis makes /readyz 503 naming redis; it recovers when Redis returns."""
    client = make_kit_app({"MONGODB_URI": mongo_uri, "REDIS_URL": own_redis.url}).test_client()
    assert client.get("/readyz").status_code == 200
    own_redis.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"mongodb": "ok", "redis": "down"}
    own_redis.start()
    assert client.get("/readyz").status_code == 200
