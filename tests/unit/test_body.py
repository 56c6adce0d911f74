"""The one JSON body loader: what it refuses, and with which status."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask

from rainbond_kit.body import MAX_DEPTH, InvalidJSONError, loads_json, read_json
from rainbond_kit.errors import BadRequestError, HTTPError, http_error


def _unprocessable(message: str) -> HTTPError:
    return http_error(422, message)


@pytest.mark.parametrize(
    "text",
    ['{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}", "[" * 10_000 + "]" * 10_000],
)
def test_too_deep_bodies_are_400(text: str) -> None:
    """Nesting past MAX_DEPTH is a 400, also where the JSON parser itself would recurse out."""
    with pytest.raises(BadRequestError, match="nested deeper"):
        loads_json(text)


def test_depth_up_to_the_limit_is_read() -> None:
    """A body exactly MAX_DEPTH levels deep is accepted as parsed."""
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert loads_json(text) == json.loads(text)


@pytest.mark.parametrize(
    "text", ['{"\\ud800": 1}', '["ok", "\\udfffx"]', '{"a": {"b": "\\ud800"}}']
)
def test_lone_surrogates_anywhere_are_400(text: str) -> None:
    """Keys and values with a lone surrogate are refused (they are no Unicode, no BSON)."""
    with pytest.raises(BadRequestError, match="lone surrogates"):
        loads_json(text)


@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 10**30])
def test_integers_beyond_int64_use_the_callers_status(number: int) -> None:
    """Out-of-range integers: 400 by default, the caller's error (422 for documents) else."""
    with pytest.raises(BadRequestError):
        loads_json(f'{{"n": [1, {number}]}}')
    with pytest.raises(HTTPError) as caught:
        loads_json(f'{{"n": {number}}}', refuse=_unprocessable)
    assert caught.value.code == 422
    assert loads_json(f'{{"n": {2**63 - 1}, "m": {-(2**63)}}}') == {"n": 2**63 - 1, "m": -(2**63)}


def test_invalid_json_is_its_own_400() -> None:
    """Bytes that are no UTF-8 JSON raise InvalidJSONError (compat reads them as no body)."""
    for data in (b"{", b"\xff\xfe"):
        with pytest.raises(InvalidJSONError):
            loads_json(data)


def _chunked(app: Flask, body: bytes, content_type: str = "application/json") -> object:
    with app.test_request_context(
        "/",
        method="POST",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": content_type},
        environ_overrides={"wsgi.input_terminated": True},
    ):
        return read_json()


def test_chunked_bodies_are_read_and_capped() -> None:
    """A chunked body is read whole; one byte over MAX_CONTENT_LENGTH is a 413."""
    app = Flask("body")
    app.config["MAX_CONTENT_LENGTH"] = 20
    exact = b'{"a": "' + b"x" * 11 + b'"}'
    assert len(exact) == 20
    assert _chunked(app, exact) == {"a": "x" * 11}
    with pytest.raises(HTTPError) as caught:
        _chunked(app, b'{"a": "' + b"x" * 12 + b'"}')
    assert caught.value.code == 413


def test_a_body_not_declared_json_is_415() -> None:
    """Without force, a body whose Content-Type is not JSON is refused."""
    app = Flask("body")
    with pytest.raises(HTTPError) as caught:
        _chunked(app, b"{}", content_type="text/plain")
    assert caught.value.code == 415
