"""The seed-style /api/v1/demo endpoint (compat API) beside the modern books resource."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings


@pytest.fixture
def client(rainbond_settings: Settings) -> Iterator[FlaskClient]:
    app: Flask = create_app(rainbond_settings, {"TESTING": True})
    yield app.test_client()
    RainbondKit.shutdown(app)


def test_seed_tutorial_crud(client: FlaskClient) -> None:
    """POST/GET/PUT/DELETE behave as the seed tutorial shows, sharing data with /api/v1/books."""
    created = client.post("/api/v1/demo", json={"title": "三体", "author": "李杰"})
    assert created.status_code == 200
    new_id = created.get_json()["new_id"]
    page = client.get("/api/v1/demo?author=李杰").get_json()
    assert page["total"] == 1
    assert page["dummy_remove"] == 0
    assert page["items"][0]["id"] == new_id
    assert client.get(f"/api/v1/books/{new_id}").get_json()["title"] == "三体"  # same collection
    updated = client.put(
        "/api/v1/demo", json={"id": new_id, "title": "球状闪电", "author": "刘慈欣"}
    )
    assert updated.get_json() == {"matched_count": 1, "modified_count": 1}
    assert client.get(f"/api/v1/books/{new_id}").get_json()["author"] == "刘慈欣"
    deleted = client.delete("/api/v1/demo", json={"id": new_id})
    assert deleted.get_json() == {"deleted_count": 1, "false_delete": False}
    assert client.get("/api/v1/demo").get_json()["total"] == 0


@pytest.mark.parametrize(
    ("method", "body", "needle"),
    [("post", {"title": "t"}, "请求参数不完整"), ("post", {"title": "", "author": "a"}, "空字符串"),
     ("post", {"title": "t", "author": "a", "x": 1}, "多余"), ("put", {"id": "zz", "title": "t", "author": "a"}, "invalid id"),
     ("delete", {"id": 5}, "")],
)  # fmt: skip
def test_seed_validation_errors(
    client: FlaskClient, method: str, body: dict[str, object], needle: str
) -> None:
    """Bad bodies get a 400 envelope with the seed's message, never a 500."""
    response = getattr(client, method)("/api/v1/demo", json=body)
    assert response.status_code == 400
    assert needle in response.get_json()["message"]
