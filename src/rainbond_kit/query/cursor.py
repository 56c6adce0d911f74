"""Keyset cursors on the wire: the opaque ``$after``/``next`` values.

A cursor is base64url JSON ``{"k": [[field, direction], ...], "v": [value, ...]}`` whose
values are MongoDB Extended JSON (canonical): every BSON type a sort field may hold
(int32/int64/double/Decimal128, string, ObjectId, boolean, date, timestamp, binary, null)
comes back as exactly that type, so the keyset filter continues at exactly that position.
A cursor whose values are anything else (objects, lists, operators, integers beyond 64 bits,
dates out of range, lone surrogates) is a 400.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import bson
from bson import Binary, Decimal128, ObjectId, Timestamp, json_util
from bson.codec_options import DatetimeConversion
from bson.json_util import CANONICAL_JSON_OPTIONS

from rainbond_kit.errors import BadRequestError
from rainbond_kit.query.spec import parameter_error as _bad

__all__ = ["CURSOR_TYPES", "decode_cursor", "encode_cursor"]

#: the value types a cursor may carry (what a sortable field may hold besides null)
CURSOR_TYPES: tuple[type, ...] = (
    bool, int, float, Decimal128, str, ObjectId, dt.datetime, Timestamp, Binary, bytes,
)  # fmt: skip
_OPTIONS = CANONICAL_JSON_OPTIONS.with_options(
    tz_aware=True, tzinfo=dt.timezone.utc, datetime_conversion=DatetimeConversion.DATETIME
)
_INT64 = (-(2**63), 2**63 - 1)
MAX_CURSOR_LENGTH = 4096


def encode_cursor(doc: Mapping[str, Any], sort: Iterable[tuple[str, int]]) -> str:
    """An opaque cursor pointing just after ``doc`` (a stored document) in ``sort`` order.

    :raises BadRequestError: a sort value is an object or a list (no keyset position).
    """
    keys = [[f, d] for f, d in sort]
    values = [doc.get(str(f)) for f, _ in keys]
    for (name, _), value in zip(keys, values, strict=True):
        if value is not None and not isinstance(value, CURSOR_TYPES):
            raise _bad(f"$after: cannot page by {name!r}: it holds objects or lists", "$orderby")
    raw = json_util.dumps({"k": keys, "v": values}, json_options=_OPTIONS, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _valid(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, CURSOR_TYPES):
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return _INT64[0] <= value <= _INT64[1]
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


def decode_cursor(text: str, sort: tuple[tuple[str, int], ...]) -> tuple[Any, ...]:
    """Decode a ``$after`` cursor made for the same ``sort``.

    :raises BadRequestError: malformed, tampered, or made for another ``$orderby``.
    """
    valid = False
    if len(text) <= MAX_CURSOR_LENGTH:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            payload = json_util.loads(raw.decode("utf-8"), json_options=_OPTIONS)
            keys = [tuple(k) for k in payload["k"]]
            values = tuple(payload["v"])
            valid = len(keys) == len(values) and all(_valid(v) for v in values)
        except (
            ValueError, KeyError, TypeError, OverflowError, RecursionError, binascii.Error,
            bson.errors.BSONError, BadRequestError,
        ):  # fmt: skip
            valid = False
    if not valid:
        raise _bad("$after: malformed cursor", "$after")
    if keys != [tuple(k) for k in sort]:
        raise _bad("$after: the cursor was made for another $orderby", "$after")
    return values
