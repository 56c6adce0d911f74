"""error_handler(app) installs the kit's envelope with the seed's Chinese messages and safe CORS."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_cors import CORS

from rainbond_kit import abort
from rainbond_kit.compat.error_handler import SEED_ERROR_MESSAGES, error_handler
from rainbond_kit.extension_state import get_state
from tests.unit.compat_app import seed_app


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for app in seed_app(monkeypatch):

        @app.route("/api/v1/demo", methods=["GET"])
        def demo() -> dict[str, str]:
            return {"书": "三体"}

        @app.get("/status/<int:code>")
        def status(code: int) -> None:
            abort(code)

        @app.get("/boom")
        def boom() -> None:
            raise RuntimeError("/srv/secret.py password=hunter2")

        yield app


@pytest.mark.parametrize(("code", "message"), sorted(SEED_ERROR_MESSAGES.items()))
def test_seed_statuses_get_the_seed_messages(app: Flask, code: int, message: str) -> None:
    """Each status the original handled answers with its Chinese message in the envelope."""
    response = app.test_client().get(f"/status/{code}")
    assert response.status_code == code
    body = response.get_json()
    assert body["code"] == code
    assert body["message"] == message
    assert {"server_time", "host_name", "host_ip"} <= body.keys()


def test_routing_errors_and_crashes(app: Flask) -> None:
    """404/405 from routing and an unexpected exception get the envelope, no detail leaked."""
    client = app.test_client()
    assert client.get("/nope").get_json()["message"] == "资源不存在"
    assert client.post("/api/v1/demo").get_json()["message"] == "不允许的方法"
    crash = client.get("/boom")
    assert crash.status_code == 500
    assert crash.get_json()["message"] == "服务内部错误"
    assert "hunter2" not in crash.get_data(as_text=True)


def test_statuses_the_original_missed_also_get_the_envelope(app: Flask) -> None:
    """413/422/429 were plain HTML before; now they are the envelope too."""
    for code in (413, 422, 429):
        body = app.test_client().get(f"/status/{code}").get_json()
        assert body["code"] == code


def test_chinese_is_sent_unescaped(app: Flask) -> None:
    """JSON_AS_ASCII's intent works on current Flask: no \\uXXXX escapes."""
    raw = app.test_client().get("/api/v1/demo").get_data()
    assert "三体".encode() in raw
    assert b"\\u" not in raw
    assert "资源不存在".encode() in app.test_client().get("/nope").get_data()


def test_server_time_is_epoch_milliseconds(app: Flask) -> None:
    """server_time is a Unix time in ms (the original sent YYYYMMDDhhmmss000)."""
    before = time.time_ns() // 1_000_000
    server_time = app.test_client().get("/nope").get_json()["server_time"]
    after = time.time_ns() // 1_000_000
    assert before <= server_time <= after


def test_cors_never_reflects_an_evil_origin_with_credentials(app: Flask) -> None:
    """The original echoed any Origin with credentials; now '*' without credentials."""
    response = app.test_client().get("/api/v1/demo", headers={"Origin": "https://evil.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = app.test_client().options(
        "/api/v1/demo",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in preflight.headers


def test_simple_cors_false_lets_the_app_configure_cors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed's example: error_handler(app, simple_cors=False) then CORS(app, ...) for one origin."""
    for app in seed_app(monkeypatch, simple_cors=False):
        CORS(app, resources={r"/.*": {"origins": "http://127.0.0.1:8888"}})

        @app.get("/x")
        def x() -> dict[str, int]:
            return {"x": 1}

        client = app.test_client()
        good = client.get("/x", headers={"Origin": "http://127.0.0.1:8888"})
        assert good.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8888"
        evil = client.get("/x", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in evil.headers
        assert client.get("/nope").get_json()["message"] == "资源不存在"


def test_app_config_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages the app already configured are kept."""
    for app in seed_app(monkeypatch, RAINBOND_ERROR_MESSAGES={404: "gone"}):
        assert app.test_client().get("/nope").get_json()["message"] == "gone"


def test_on_an_app_that_already_has_the_kit(bare_app: Flask) -> None:
    """Calling it after RainbondKit(app) keeps the kit and adds the seed messages."""
    state = get_state(bare_app)
    error_handler(bare_app)
    assert get_state(bare_app) is state
    assert bare_app.test_client().get("/nope").get_json()["message"] == "资源不存在"
