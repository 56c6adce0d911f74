"""Rate limiting against a real Redis, shared by several app instances."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from flask import Flask, jsonify

from rainbond_kit.embedded import RedisProcess
from rainbond_kit.ratelimit import exempt, init_ratelimit, limit
from tests.conftest import KitAppFactory
from tests.integration.auth_support import own_redis_fixture  # noqa: F401 - fixture


def _app(
    make_kit_app: KitAppFactory,
    env: dict[str, str],
    scope: str,
    rate: str = "5/minute",
    **config: Any,
) -> Flask:
    app = make_kit_app(env, **config)
    init_ratelimit(app)

    @app.get("/limited")
    @limit(rate, scope=scope)
    def limited() -> Any:
        return jsonify(ok=True)

    @app.get("/open")
    def open_() -> Any:
        return jsonify(ok=True)

    @app.get("/free")
    @exempt
    def free() -> Any:
        return jsonify(ok=True)

    return app


@pytest.mark.parametrize("strategy", ["sliding", "fixed"])
def test_limit_shared_across_instances(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], strategy: str
) -> None:
    """5/minute: 3 requests on app A and 3 on app B; the 6th is a 429 with the headers right."""
    scope = uuid.uuid4().hex
    apps = [
        _app(make_kit_app, rainbond_env, scope, RAINBOND_RATELIMIT_STRATEGY=strategy)
        for _ in range(2)
    ]
    clients = [app.test_client() for app in apps]
    responses = [clients[i // 3].get("/limited") for i in range(6)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["4", "3", "2", "1", "0", "0"]
    assert all(r.headers["X-RateLimit-Limit"] == "5" for r in responses)
    now = time.time()
    reset = int(responses[5].headers["X-RateLimit-Reset"])
    assert now < reset <= now + 61
    assert 1 <= int(responses[5].headers["Retry-After"]) <= 60
    body = responses[5].get_json()
    assert body["code"] == 429
    assert body["message"] == "rate limit exceeded: 5 per 60s"


def test_limit_is_per_method(make_kit_app: KitAppFactory, rainbond_env: dict[str, str]) -> None:
    """Each HTTP method has its own budget: HEAD still passes after GET is spent."""
    app = _app(make_kit_app, rainbond_env, uuid.uuid4().hex, rate="1/minute")
    client = app.test_client()
    assert client.get("/limited").status_code == 200
    assert client.get("/limited").status_code == 429
    assert client.head("/limited").status_code == 200


def test_trusted_proxy_client(make_kit_app: KitAppFactory, rainbond_env: dict[str, str]) -> None:
    """With one trusted proxy, clients are told apart by X-Forwarded-For; without, they are not."""
    scope = uuid.uuid4().hex
    trusting = _app(make_kit_app, rainbond_env, scope, "1/minute", RAINBOND_TRUSTED_PROXIES="1")
    client = trusting.test_client()
    assert client.get("/limited", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 200
    assert client.get("/limited", headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 200
    assert client.get("/limited", headers={"X-Forwarded-For": "10.0.0.2"}).status_code == 429
    naive = _app(make_kit_app, rainbond_env, uuid.uuid4().hex, "1/minute").test_client()
    assert naive.get("/limited", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 200
    assert naive.get("/limited", headers={"X-Forwarded-For": "10.0.0.9"}).status_code == 429


def test_app_wide_default(make_kit_app: KitAppFactory, rainbond_env: dict[str, str]) -> None:
    """RAINBOND_RATELIMIT limits every view except exempt ones and the probes."""
    app = _app(make_kit_app, rainbond_env, uuid.uuid4().hex, RAINBOND_RATELIMIT="2/minute")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.9.{uuid.uuid4().int % 250}.1"  # a fresh budget
    first = client.get("/open")
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert client.get("/open").status_code == 200
    assert client.get("/open").status_code == 429
    assert all(client.get("/free").status_code == 200 for _ in range(3))
    assert all(client.get("/healthz").status_code == 200 for _ in range(3))


def test_redis_down_fails_closed(
    own_redis: RedisProcess, mongo_uri: str, make_kit_app: KitAppFactory
) -> None:
    """Redis stopped: limited routes answer 503, not an unlimited pass."""
    app = _app(make_kit_app, {"MONGODB_URI": mongo_uri, "REDIS_URL": own_redis.url}, "x")
    client = app.test_client()
    assert client.get("/limited").status_code == 200
    own_redis.stop()
    response = client.get("/limited")
    assert response.status_code == 503
    assert response.get_json()["message"] == "rate limiting store is unavailable"
