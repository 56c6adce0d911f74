"""Keyset cursors on the wire: the opaque ``$after``/``next`` values (base64url JSON)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from bson import ObjectId

from rainbond_kit.data.documents import object_id
from rainbond_kit.data.epoch import from_millis, to_millis
from rainbond_kit.errors import BadRequestError
from rainbond_kit.query.spec import parameter_error as _bad

__all__ = ["decode_cursor", "encode_cursor"]


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"d": to_millis(value)}
    if isinstance(value, ObjectId):
        return {"o": str(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return {"s": str(value)}  # anything exotic compares as its text


def _decode_value(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "d" and isinstance(inner, int) and not isinstance(inner, bool):
            return from_millis(inner)
        if tag == "o" and isinstance(inner, str):
            return object_id(inner)
        if tag == "s" and isinstance(inner, str):
            return inner
    raise ValueError("bad cursor value")


def encode_cursor(doc: Mapping[str, Any], sort: Iterable[tuple[str, int]]) -> str:
    """An opaque cursor pointing just after ``doc`` (a stored document) in ``sort`` order."""
    keys = [[f, d] for f, d in sort]
    payload = {"k": keys, "v": [_encode_value(doc.get(str(f))) for f, _ in keys]}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, sort: tuple[tuple[str, int], ...]) -> tuple[Any, ...]:
    """Decode a ``$after`` cursor made for the same ``sort``.

    :raises BadRequestError: malformed, tampered, or made for another ``$orderby``.
    """
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = json.loads(raw)
        keys = [tuple(k) for k in payload["k"]]
        values = tuple(_decode_value(v) for v in payload["v"])
        valid = isinstance(payload, dict) and len(keys) == len(values)
    except (ValueError, KeyError, TypeError, OverflowError, binascii.Error, BadRequestError):
        valid = False
    if not valid:
        raise _bad("$after: malformed cursor", "$after")
    if keys != [tuple(k) for k in sort]:
        raise _bad("$after: the cursor was made for another $orderby", "$after")
    return values
