"""The sample app with the auth center on: ResourceView.PERMISSION and the demo endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings
from rainbond_kit.auth import AuthSettings
from tests.integration.auth_support import (  # noqa: F401 - fixture
    CENTER,
    PERM,
    AuthCenter,
    auth_center_fixture,
    unique_name,
)


@pytest.fixture
def app(rainbond_settings: Settings, auth_center: AuthCenter) -> Iterator[Flask]:
    app = create_app(
        rainbond_settings, {"TESTING": True}, auth=AuthSettings.from_env(auth_center.env)
    )
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _token(center: AuthCenter, codes: list[int]) -> str:
    role = unique_name()
    center.add_role(role, codes)
    return center.login(center.add_user([role]), unique_name())


def test_registration_at_startup(app: Flask, auth_center: AuthCenter) -> None:
    """create_app registers the books permission and its status codes in the auth center."""
    assert (
        auth_center.db.permission.count_documents({"center_name": CENTER, "permission_name": PERM})
        == 1
    )
    statuses = sorted(
        d["permission_status"] for d in auth_center.db.permission_set.find({"center_name": CENTER})
    )
    assert statuses == [0, 1, 2, 4, 8, 16]


def test_books_need_token_and_method_code(client: FlaskClient, auth_center: AuthCenter) -> None:
    """No token: 401. View-only role: GET ok, POST 403. View+add: POST 201."""
    assert client.get("/api/v1/books").status_code == 401
    viewer = _token(auth_center, [1])
    assert client.get("/api/v1/books", headers={"token": viewer}).status_code == 200
    denied = client.post(
        "/api/v1/books", json={"title": "t", "author": "a"}, headers={"token": viewer}
    )
    assert denied.status_code == 403
    assert denied.get_json()["required_codes"] == [2]
    editor = _token(auth_center, [1, 2])
    created = client.post(
        "/api/v1/books",
        json={"title": "t", "author": "a"},
        headers={"Authorization": f"Bearer {editor}"},
    )
    assert created.status_code == 201
    assert (
        client.delete(
            f"/api/v1/books/{created.get_json()['id']}", headers={"token": editor}
        ).status_code
        == 403
    )


def test_demo_endpoint_is_protected_too(client: FlaskClient, auth_center: AuthCenter) -> None:
    """The compat demo endpoint needs the same permission."""
    assert client.get("/api/v1/demo").status_code == 401
    assert (
        client.get("/api/v1/demo", headers={"token": _token(auth_center, [1])}).status_code == 200
    )


def test_spec_declares_the_token_scheme(client: FlaskClient) -> None:
    """The OpenAPI document has the token apiKey scheme and every books operation requires it."""
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    assert spec["components"]["securitySchemes"]["token"] == {
        "type": "apiKey", "in": "header", "name": "token",
        "description": "Auth-center token (`Authorization: Bearer <token>` also works)"}  # fmt: skip
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                assert op["security"] == [{"token": []}], (path, method)
                assert {"401", "403"} <= set(op["responses"]), (path, method)
