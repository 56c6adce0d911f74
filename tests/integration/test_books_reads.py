"""``POST /api/v1/books/<id>/reads``: the sample app's atomic read counter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings

URL = "/api/v1/books"


@pytest.fixture
def client(rainbond_settings: Settings) -> Iterator[FlaskClient]:
    app: Flask = create_app(rainbond_settings, {"TESTING": True})
    yield app.test_client()
    RainbondKit.shutdown(app)


def test_reads_count_up_and_show_in_the_book(client: FlaskClient) -> None:
    """Each POST adds one to ``reads`` (204); the book shows the count; clients cannot set it."""
    book = client.post(URL, json={"title": "t", "author": "a"}).get_json()
    assert "reads" not in book
    for _ in range(3):
        assert client.post(f"{URL}/{book['id']}/reads").status_code == 204
    assert client.get(f"{URL}/{book['id']}").get_json()["reads"] == 3
    refused = client.post(URL, json={"title": "t", "author": "a", "reads": 99})
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["json"] == {"reads": ["Unknown field."]}


def test_reads_of_a_missing_or_malformed_id(client: FlaskClient) -> None:
    """An unknown id is a 404 envelope, a malformed one a 400, a deleted book a 404."""
    missing = client.post(f"{URL}/65f000000000000000000001/reads")
    assert (missing.status_code, missing.get_json()["code"]) == (404, 404)
    assert client.post(f"{URL}/nope/reads").get_json()["code"] == 400
    book = client.post(URL, json={"title": "t", "author": "a"}).get_json()
    assert client.delete(f"{URL}/{book['id']}").status_code == 204
    assert client.post(f"{URL}/{book['id']}/reads").status_code == 404
