"""Request bodies: the one JSON loader every route reads through.

The generated resource writes (through :data:`ARGUMENTS_PARSER`, flask-smorest's webargs
parser), ``POST /search`` and compat's ``Parameter`` all call :func:`read_json`, so a body is
read the same way everywhere: a chunked body (``Transfer-Encoding: chunked``, no
``Content-Length``) is read, the app's ``MAX_CONTENT_LENGTH`` applies to it too (413), and
JSON that the data layer could not take is refused up front: nesting deeper than
:data:`MAX_DEPTH`, text with lone surrogates (``"\\ud800"``: not Unicode, no BSON string),
object keys holding a NUL character (no BSON key can), integers beyond the 64-bit range BSON
stores, numbers that are not finite (``NaN``, ``Infinity`` and literals past the double range
such as ``1e400``, which Python's parser reads as floats: stored, they would come back as
``Infinity`` in responses no strict JSON client parses). Those refusals are 4xx envelopes,
never a 500.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from flask import Request, request
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

from rainbond_kit.errors import BadRequestError, HTTPError, http_error

__all__ = ["ARGUMENTS_PARSER", "MAX_DEPTH", "InvalidJSONError", "loads_json", "read_json"]

#: deepest nesting of objects and lists a body may have
MAX_DEPTH = 64
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NOT_FINITE = "a number in the body is not finite (NaN, Infinity or beyond 64-bit floats)"


class InvalidJSONError(BadRequestError):
    """400: the body is not UTF-8 JSON at all."""


def _check(value: Any, refuse: Callable[[str], HTTPError]) -> None:
    """Walk the parsed body once (iteratively): depth, number range, valid Unicode, keys."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
            for key in item:
                _text(key)
                if "\x00" in key:
                    raise BadRequestError("an object key in the body holds a NUL character")
        elif isinstance(item, list):
            children = item
        else:
            if isinstance(item, str):
                _text(item)
            elif isinstance(item, int) and not _INT64_MIN <= item <= _INT64_MAX:
                raise refuse("an integer in the body is beyond the 64-bit range")
            elif isinstance(item, float) and not math.isfinite(item):
                raise refuse(_NOT_FINITE)
            continue
        if depth > MAX_DEPTH:
            raise BadRequestError(f"the body is nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


def _text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequestError("text must be valid Unicode (no lone surrogates)") from None


def loads_json(data: bytes | str, *, refuse: Callable[[str], HTTPError] = BadRequestError) -> Any:
    """Parse a JSON body strictly.

    :param refuse: the error for an integer beyond 64 bits or a number that is not finite:
        a 400 by default (queries, compat), 422 for the documents of resource writes.
    :raises InvalidJSONError: not UTF-8 or not JSON.
    :raises BadRequestError: nested deeper than :data:`MAX_DEPTH`, lone surrogates, a NUL
        character in an object key.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text)
    except RecursionError:
        raise BadRequestError(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InvalidJSONError(f"the body is not valid JSON: {str(exc)[:80]}") from None
    _check(value, refuse)
    return value


def read_json(
    req: Request | None = None,
    *,
    refuse: Callable[[str], HTTPError] = BadRequestError,
    force: bool = False,
    empty: Any = None,
) -> Any:
    """The request's JSON body, or ``empty`` when it has none (no bytes at all).

    Chunked bodies are read; the size limit applies (413 past ``MAX_CONTENT_LENGTH``).

    :param force: read the body whatever its ``Content-Type`` (compat); else a body that is
        not declared JSON is a 415.
    """
    req = req or request
    data = req.get_data(cache=True)
    limit = req.max_content_length
    # werkzeug stops a streamed body at the limit silently: more bytes mean too large
    streamed = req.content_length is None and limit is not None and len(data) >= limit
    if streamed and req.environ["wsgi.input"].read(1):
        raise http_error(413, f"the body is larger than {limit} bytes")
    if not data:
        return empty
    if not force and not req.is_json:
        raise http_error(415, "the body must be JSON (Content-Type: application/json)")
    return loads_json(data, refuse=refuse)


def _unprocessable(message: str) -> HTTPError:
    return http_error(422, message, errors={"json": [message]})


class _Parser(FlaskParser):
    """flask-smorest's parser, reading JSON documents through :func:`read_json` (422s)."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return missing
        return read_json(req, refuse=_unprocessable, force=True, empty=missing)


#: the webargs parser of the generated resource routes
ARGUMENTS_PARSER: FlaskParser = _Parser()
