"""Every error the app returns is the JSON envelope, with the right status and headers."""

from __future__ import annotations

import time

import pymongo.errors
import pytest
import redis.exceptions
from flask import Flask, request
from flask.testing import FlaskClient
from flask_smorest import abort as smorest_abort

from rainbond_kit import abort
from rainbond_kit.envelope import host_identity

ENVELOPE_KEYS = {"code", "status", "message", "server_time", "host_name", "host_ip"}


@pytest.fixture
def client(bare_app: Flask) -> FlaskClient:
    app = bare_app
    app.config["MAX_CONTENT_LENGTH"] = 1024

    @app.route("/business")
    def business() -> None:
        abort(409, "title already taken", field="title", code=1)

    @app.route("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail /srv/app/db.py password=hunter2")

    @app.route("/mongo-down")
    def mongo_down() -> None:
        raise pymongo.errors.ServerSelectionTimeoutError("127.0.0.1:27017: connection refused")

    @app.route("/redis-down")
    def redis_down() -> None:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    @app.route("/dup")
    def dup() -> None:
        raise pymongo.errors.DuplicateKeyError("E11000 duplicate key error collection: secret.x")

    @app.route("/json", methods=["POST"])
    def json_body() -> dict[str, object]:
        return {"got": request.get_json()}

    @app.route("/upload", methods=["POST"])
    def upload() -> dict[str, int]:
        return {"size": len(request.get_data())}

    @app.route("/validation")
    def validation() -> None:
        smorest_abort(422, message="invalid", errors={"json": {"title": ["Missing data."]}})

    @app.route("/custom/<int:status>")
    def custom(status: int) -> None:
        abort(status)

    return app.test_client()


def _assert_envelope(body: dict[str, object], code: int) -> None:
    assert body.keys() >= ENVELOPE_KEYS
    assert body["code"] == code
    assert isinstance(body["server_time"], int)
    assert body["host_name"], body


@pytest.mark.parametrize(
    ("path", "method", "code", "status"),
    [
        ("/nope", "get", 404, "Not Found"),
        ("/business", "post", 405, "Method Not Allowed"),
        ("/custom/400", "get", 400, "Bad Request"),
        ("/custom/401", "get", 401, "Unauthorized"),
        ("/custom/403", "get", 403, "Forbidden"),
        ("/custom/412", "get", 412, "Precondition Failed"),
        ("/custom/429", "get", 429, "Too Many Requests"),
        ("/custom/418", "get", 418, "I'm a Teapot"),
    ],
)
def test_status_codes_render_the_envelope(
    client: FlaskClient, path: str, method: str, code: int, status: str
) -> None:
    """Routing and abort() errors come back as the envelope with code and status name."""
    response = getattr(client, method)(path)
    assert response.status_code == code
    assert response.mimetype == "application/json"
    body = response.get_json()
    _assert_envelope(body, code)
    assert body["status"] == status


def test_405_keeps_allow_header(client: FlaskClient) -> None:
    """A 405 still tells the client which methods are allowed."""
    response = client.delete("/business")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}


def test_business_error_has_extra_top_level_keys_but_not_overriding(client: FlaskClient) -> None:
    """abort(..., **extra) adds keys at top level; reserved keys stay ours."""
    body = client.get("/business").get_json()
    assert body["code"] == 409
    assert body["message"] == "title already taken"
    assert body["field"] == "title"


def test_unhandled_exception_is_generic_500(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """No stack trace, path or exception text reaches the client; the log has it."""
    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_json()
    _assert_envelope(body, 500)
    assert body["message"] == "Internal Server Error"
    text = response.get_data(as_text=True)
    for leak in ("secret", "/srv", "hunter2", "Traceback", "RuntimeError"):
        assert leak not in text


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/mongo-down", 503, "mongodb is unavailable"),
        ("/redis-down", 503, "redis is unavailable"),
        ("/dup", 409, "a document with the same unique key exists"),
    ],
)
def test_driver_errors_map_to_status_without_driver_text(
    client: FlaskClient, path: str, code: int, message: str
) -> None:
    """Store outages are 503 and duplicate keys 409; the driver's text stays in the log."""
    response = client.get(path)
    assert response.status_code == code
    body = response.get_json()
    assert body["message"] == message
    assert "127.0.0.1" not in body["message"]
    assert "E11000" not in response.get_data(as_text=True)


def test_validation_errors_carry_field_details(client: FlaskClient) -> None:
    """422 keeps webargs' field-level errors under ``errors``."""
    response = client.get("/validation")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"json": {"title": ["Missing data."]}}


def test_413_past_max_content_length(client: FlaskClient) -> None:
    """A body over MAX_CONTENT_LENGTH is refused with 413 in the envelope."""
    response = client.post("/upload", data=b"x" * 2048)
    assert response.status_code == 413
    _assert_envelope(response.get_json(), 413)


def test_415_for_json_endpoint_with_wrong_content_type(client: FlaskClient) -> None:
    """Reading JSON from a non-JSON body is 415 in the envelope."""
    response = client.post("/json", data="a=b", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    _assert_envelope(response.get_json(), 415)


def test_400_for_malformed_json(client: FlaskClient) -> None:
    """A malformed JSON body is a 400 envelope, not a 500."""
    response = client.post("/json", data="{not json", content_type="application/json")
    assert response.status_code == 400
    _assert_envelope(response.get_json(), 400)


def test_server_time_is_epoch_milliseconds(client: FlaskClient) -> None:
    """server_time is milliseconds since the Unix epoch (UTC), close to now."""
    before = int(time.time() * 1000)
    body = client.get("/nope").get_json()
    after = int(time.time() * 1000)
    assert before <= body["server_time"] <= after


def test_host_identity_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unresolvable host name gives an empty host_ip instead of an error."""
    import socket

    def fail(_name: str) -> str:
        raise socket.gaierror("no DNS")

    host_identity.cache_clear()
    monkeypatch.delenv("POD_IP", raising=False)
    monkeypatch.setattr(socket, "gethostbyname", fail)
    try:
        name, ip = host_identity()
        assert ip == ""
        assert name == socket.gethostname()
    finally:
        host_identity.cache_clear()


def test_pod_ip_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """On Rainbond the envelope reports the injected POD_IP."""
    host_identity.cache_clear()
    monkeypatch.setenv("POD_IP", "10.42.0.17")
    try:
        assert host_identity()[1] == "10.42.0.17"
    finally:
        host_identity.cache_clear()


def test_error_message_overrides_from_config(bare_app: Flask) -> None:
    """RAINBOND_ERROR_MESSAGES replaces default messages (the compat layer's Chinese texts)."""
    bare_app.config["RAINBOND_ERROR_MESSAGES"] = {404: "资源不存在"}
    body = bare_app.test_client().get("/missing").get_json()
    assert body["message"] == "资源不存在"
