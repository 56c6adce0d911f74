"""Client filter values -> typed BSON values of a field's kind, with the language's bounds.

Query-string values arrive as text, ``/search`` values as JSON; both become the field's kind
(integers in the int64 range, finite numbers, exact ``Decimal128``, booleans, dates in the
list's time zone, ``ObjectId``) or a 400 naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Mapping
from typing import Any

from bson import Decimal128, ObjectId

from rainbond_kit.data.documents import object_id
from rainbond_kit.errors import BadRequestError
from rainbond_kit.query.spec import FieldSpec, Kind
from rainbond_kit.query.spec import parameter_error as _bad
from rainbond_kit.timeparse import parse_date

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "INTEGER_TEXT",
    "MAX_LIST_LENGTH",
    "MAX_VALUE_LENGTH",
    "as_list",
    "coerce",
    "parse_date_param",
    "scalar",
    "values_of",
]

MAX_VALUE_LENGTH = 1000
MAX_LIST_LENGTH = 100
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: an integer's text: up to 19 digits, the int64 range's (checked after conversion)
INTEGER_TEXT = re.compile(r"^[+-]?\d{1,19}$")


def scalar(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        raise _bad(f"{name}: a filter value must be a plain value, not an object", name)
    if isinstance(value, list):
        raise _bad(f"{name}: nested lists are not allowed", name)
    if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
        raise _bad(f"{name}: value longer than {MAX_VALUE_LENGTH} characters", name)
    return value


def coerce(
    value: Any, spec: FieldSpec, name: str, *, end: bool = False, zone: dt.tzinfo = dt.timezone.utc
) -> Any:
    """Coerce one client value to the field's kind (query-string values are strings); a
    field with ``choices`` (an ``Enum``) accepts only those."""
    typed = _typed(value, spec, name, end=end, zone=zone)
    if spec.choices is not None and typed not in spec.choices:
        allowed = ", ".join(str(c) for c in spec.choices)
        raise _bad(f"{name}: expected one of {allowed}, got {str(value)[:40]!r}", name)
    return typed


def _decimal(value: Any) -> Decimal128 | None:
    """A finite number (text, int or float) as an exact ``Decimal128``, else ``None``."""
    try:
        number = decimal.Decimal(value if isinstance(value, str) else repr(value))
        return Decimal128(number) if number.is_finite() else None
    except (decimal.DecimalException, ValueError):
        return None


def _typed(
    value: Any, spec: FieldSpec, name: str, *, end: bool = False, zone: dt.tzinfo = dt.timezone.utc
) -> Any:
    value = scalar(value, name)
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise _bad(f"{name}: integer beyond the 64-bit range", name)
    kind = spec.kind
    if kind is Kind.ANY:
        if value is None or isinstance(value, str | int | float | bool):
            return value
    elif kind is Kind.STRING:
        if isinstance(value, str):
            return value
    elif kind is Kind.INTEGER:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and INTEGER_TEXT.match(value.strip()):
            whole = int(value)
            if INT64_MIN <= whole <= INT64_MAX:
                return whole
    elif kind is Kind.NUMBER:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                if number == number and abs(number) != float("inf"):
                    return number
    elif kind is Kind.DECIMAL:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            exact = _decimal(value.strip() if isinstance(value, str) else value)
            if exact is not None:
                return exact
    elif kind is Kind.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
    elif kind is Kind.DATETIME:
        if isinstance(value, str | int) and not isinstance(value, bool):
            return parse_date_param(str(value), name, end=end, zone=zone)
    elif kind is Kind.OBJECTID and isinstance(value, str | ObjectId):
        try:
            return object_id(value)
        except BadRequestError:
            pass
    raise _bad(f"{name}: expected {kind.value}, got {str(value)[:40]!r}", name)


def parse_date_param(
    text: str, name: str, *, end: bool = False, zone: dt.tzinfo = dt.timezone.utc
) -> dt.datetime:
    try:
        return parse_date(text, end=end, zone=zone)
    except BadRequestError as exc:
        raise _bad(f"{name}: {exc.description}", name) from None


def as_list(value: Any, name: str) -> list[Any]:
    """A list operator's values: a list as given, a text split on commas."""
    if isinstance(value, list):
        items = value
    else:
        items = value.split(",") if isinstance(value, str) else [scalar(value, name)]
    if len(items) > MAX_LIST_LENGTH:
        raise _bad(f"{name}: at most {MAX_LIST_LENGTH} values", name)
    return items


def values_of(value: Any, name: str) -> list[Any]:
    """The values of one parameter: repeated (a list) or one."""
    values = value if isinstance(value, list) else [value]
    if len(values) > MAX_LIST_LENGTH:
        raise _bad(f"{name}: at most {MAX_LIST_LENGTH} values", name)
    return values
