"""Examples in the OpenAPI document, generated from the marshmallow schemas.

Every schema property gets an ``example`` that its own validators accept (``Length``,
``Range``, ``OneOf``, formats), so Swagger UI's "Example Value" is a valid request. A field's
``metadata={"example": ...}`` always wins. The error envelope gets one example per status.
A ``Decimal`` property is documented as the response carries it (:func:`decimal_attribute`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import marshmallow as ma

from rainbond_kit.i18n import DocText

__all__ = ["decimal_attribute", "envelope_example", "example_attribute", "field_example"]

_NOT_SET = object()
_SAMPLE_TIME = dt.datetime(2026, 1, 31, 8, 30, tzinfo=dt.timezone.utc)
_SAMPLE_MILLIS = 1769848200000
_FORMATTED: tuple[tuple[type[ma.fields.Field[Any]], Any], ...] = (
    (ma.fields.Email, "user@example.com"),
    (ma.fields.Url, "https://example.com/"),
    (ma.fields.UUID, str(uuid.UUID(int=0x12345678123456781234567812345678))),
    (ma.fields.NaiveDateTime, _SAMPLE_TIME.replace(tzinfo=None).isoformat()),
    (ma.fields.DateTime, _SAMPLE_TIME.isoformat()),
    (ma.fields.Date, _SAMPLE_TIME.date().isoformat()),
    (ma.fields.Time, _SAMPLE_TIME.time().isoformat()),
    (ma.fields.TimeDelta, 60),
    (ma.fields.Boolean, True),
)
_ERRORS: dict[int, dict[str, Any]] = {
    400: {"$limit": ["$limit must be <= 100"]},
    422: {"json": {"title": ["Missing data for required field."]}},
}
_MESSAGES = {
    400: "$limit must be <= 100",
    401: "missing token: send it in the 'token' header",
    403: "the user belongs to no group and cannot access data",
    404: "no document with id 65b9a1f0c2d4e6a8b0c1d2e3",
    405: "The method is not allowed for the requested URL.",
    409: "a document with the same unique key already exists",
    412: "If-Match does not name a current ETag",
    413: "The data value transmitted exceeds the capacity limit.",
    422: "The request was well-formed but was unable to be followed due to semantic errors.",
    503: "mongodb is unavailable",
}


def _validators(field: ma.fields.Field[Any], kind: type[Any]) -> list[Any]:
    return [v for v in field.validators if isinstance(v, kind)]


def _number(field: ma.fields.Field[Any], base: float) -> float:
    for rng in _validators(field, ma.validate.Range):
        if rng.min is not None and base <= rng.min:
            base = rng.min if rng.min_inclusive else rng.min + 1
        if rng.max is not None and base >= rng.max:
            base = rng.max if rng.max_inclusive else rng.max - 1
    return base


def _text(field: ma.fields.Field[Any], name: str) -> str:
    text = name or "text"
    for length in _validators(field, ma.validate.Length):
        if length.equal is not None:
            size: int = length.equal
            return (text * size)[:size]
        if length.min is not None and len(text) < length.min:
            text = (text + "-" + "x" * length.min)[: max(length.min, len(text))]
        if length.max is not None and len(text) > length.max:
            text = text[: length.max]
    return text


def field_example(field: ma.fields.Field[Any], name: str = "") -> Any:
    """A value ``field`` accepts, or ``_NOT_SET`` for fields drawn from elsewhere (nested)."""
    if "example" in field.metadata:
        return field.metadata["example"]
    choices = _validators(field, ma.validate.OneOf)
    if choices and choices[0].choices:
        return next(iter(choices[0].choices))
    if isinstance(field, ma.fields.Enum):
        member: enum.Enum = next(iter(field.enum.__members__.values()))
        return member.value if field.by_value else member.name
    if isinstance(field, ma.fields.Constant):
        return field.constant
    for cls, value in _FORMATTED:
        if isinstance(field, cls):
            return value
    if isinstance(field, ma.fields.Integer):
        return int(_number(field, 1))
    if isinstance(field, ma.fields.Decimal):
        number = decimal.Decimal(str(_number(field, 1.5)))
        return field._serialize(number, None, None) if field.as_string else _json_number(number)
    if isinstance(field, ma.fields.Number):
        return _number(field, 1.5)
    if isinstance(field, ma.fields.String):
        return _text(field, name)
    if isinstance(field, ma.fields.List):
        inner = field_example(field.inner, name)
        if inner is _NOT_SET:
            return _NOT_SET
        count = 1
        for length in _validators(field, ma.validate.Length):
            count = max(count, length.min or 0, length.equal or 0)
        return [inner] * count
    if isinstance(field, ma.fields.Dict):
        return {}
    return _NOT_SET  # Nested, Raw, Method, Function: their own schemas speak for them


def _json_number(value: Any) -> Any:
    """A ``Decimal`` bound or example as a JSON number (an int when integral); apispec writes
    the bounds of an ``as_string=True`` field as their text (``"0.00"``)."""
    if isinstance(value, str):
        try:
            value = decimal.Decimal(value)
        except decimal.InvalidOperation:
            return value
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def decimal_attribute(
    self: Any, field: ma.fields.Field[Any], ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """apispec attribute function: a ``Decimal`` property's ``minimum``/``maximum`` are numbers
    (apispec writes them as ``Decimal``, which a JSON document holds as strings: an invalid
    OpenAPI document); ``as_string=True`` is a ``string`` of ``format: decimal``."""
    if not isinstance(field, ma.fields.Decimal):
        return {}
    numbers: dict[str, Any] = {k: _json_number(ret[k]) for k in ("minimum", "maximum") if k in ret}
    if field.as_string:
        return {"type": "string", "format": "decimal", **numbers}
    if "default" in ret:
        numbers["default"] = _json_number(ret["default"])
    return numbers


def example_attribute(
    self: Any, field: ma.fields.Field[Any], ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """apispec attribute function: an ``example`` for every property that has none."""
    if "example" in ret or "$ref" in ret or "allOf" in ret:
        return {}
    if "default" in ret and not callable(ret["default"]):
        return {"example": ret["default"]}
    value = field_example(field, field.name or "")
    return {} if value is _NOT_SET else {"example": value}


def _messages(errors: Any) -> Any:
    """Field errors whose texts are translated like the envelope's (``DocText.message``)."""
    if isinstance(errors, str):
        return DocText.message(errors)
    if isinstance(errors, Mapping):
        return {key: _messages(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [_messages(value) for value in errors]
    return errors


def envelope_example(code: int, *, errors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An example error envelope for ``code``, as the server sends it."""
    body: dict[str, Any] = {
        "code": code,
        "status": HTTPStatus(code).phrase,
        "message": DocText.message(_MESSAGES.get(code, HTTPStatus(code).phrase)),
        "server_time": _SAMPLE_MILLIS,
        "host_name": "books-5d9c7f-x2k4p",
        "host_ip": "10.42.0.17",
        "request_id": "6f1c0e2a9b8d4c7e8a1b2c3d4e5f6a7b",
    }
    if errors is None:
        errors = _ERRORS.get(code)
    if errors is not None:
        body["errors"] = _messages(errors)
    return body
