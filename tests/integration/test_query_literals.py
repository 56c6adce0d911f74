"""Escaped literals against the real MongoDB wire server: any text finds its own document."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings

EXAMPLES = int(os.environ.get("RAINBOND_FUZZ_EXAMPLES", "40"))

_texts = st.text(
    st.one_of(
        st.characters(exclude_categories=["Cs", "Cc"]),
        st.sampled_from(list(".^$*+?()[]{}|\\/-#&=%") + list("图书中文")),
    ),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() == s and s)


@pytest.fixture
def app(rainbond_settings: Settings) -> Iterator[Flask]:
    app = create_app(rainbond_settings, {"TESTING": True})
    yield app
    RainbondKit.shutdown(app)


def test_any_text_finds_its_own_book(app: Flask) -> None:
    """A title of random text (regex metacharacters, CJK) is found by ``title=<text>`` over HTTP."""
    client: FlaskClient = app.test_client()

    @given(text=_texts)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    def run(text: str) -> None:
        created = client.post("/api/v1/books", json={"title": text, "author": "fuzz"})
        assert created.status_code == 201, created.get_json()
        book_id = created.get_json()["id"]
        for op in ("", "[eq]", "[contains]", "[icontains]", "[startswith]"):
            response = client.get(f"/api/v1/books?title{op}={quote(text)}&$limit=100")
            assert response.status_code == 200, (op, response.get_json())
            ids = [item["id"] for item in response.get_json()["items"]]
            assert book_id in ids, (op, text)
        assert client.delete(f"/api/v1/books/{book_id}").status_code == 204

    run()
