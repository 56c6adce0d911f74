"""Converting stored MongoDB documents to their public JSON form, and ids back.

Public form (the seed's wire format): ``_id`` becomes ``id`` (24-hex string), datetimes
become integer milliseconds since the Unix epoch, and every other BSON value becomes a
JSON-safe value (``ObjectId`` -> hex, ``Decimal128`` -> string, bytes -> base64 string).
Naive datetimes are taken as UTC (pymongo stores and returns UTC).
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bson import Binary, Decimal128, ObjectId, Regex

from rainbond_kit.errors import BadRequestError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MILLISECOND = dt.timedelta(milliseconds=1)
#: values returned as they are (exact types only)
_PLAIN = frozenset({str, int, float, bool, type(None)})

__all__ = ["is_object_id", "object_id", "to_json_value", "to_millis", "to_public"]


def is_object_id(value: object) -> bool:
    """True for an ``ObjectId`` or a 24-hex-digit string."""
    return isinstance(value, ObjectId) or (isinstance(value, str) and ObjectId.is_valid(value))


def object_id(value: object) -> ObjectId:
    """Return ``value`` as an ``ObjectId``.

    :raises BadRequestError: ``value`` is not a 24-hex-digit string or an ``ObjectId``.
    """
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and len(value) == 24 and ObjectId.is_valid(value):
        return ObjectId(value)
    shown = value if isinstance(value, str) and len(value) <= 64 else type(value).__name__
    raise BadRequestError(f"invalid id {shown!r}: expected 24 hexadecimal digits")


def to_millis(value: dt.datetime) -> int:
    """Milliseconds since the Unix epoch; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return (value - _EPOCH) // _MILLISECOND


def to_json_value(value: Any) -> Any:
    """Convert one BSON value (recursively) to a JSON-safe value."""
    # Fast path on the exact types BSON decodes to (ABC isinstance checks are slow);
    # subclasses and the rarer types take the general path below, with the same results.
    cls = type(value)
    if cls in _PLAIN:
        return value
    if cls is list:
        return [v if type(v) in _PLAIN else to_json_value(v) for v in value]
    if cls is dt.datetime:
        return to_millis(value)
    if cls is ObjectId:
        return str(value)
    if cls is dict:
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, dt.datetime):
        return to_millis(value)
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, Decimal128):
        return str(value.to_decimal())
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Binary | bytes):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Regex):
        return value.pattern
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def to_public(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Return the public form of a stored document (``id`` first, no ``_id``)."""
    out: dict[str, Any] = {}
    if "_id" in doc:
        out["id"] = str(doc["_id"])
    for key, value in doc.items():
        if key != "_id":
            out[key] = value if type(value) in _PLAIN else to_json_value(value)
    return out
