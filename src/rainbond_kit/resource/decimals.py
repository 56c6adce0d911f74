"""Money: marshmallow ``Decimal`` values stored as BSON Decimal128 and sent as exact JSON numbers.

A loaded ``decimal.Decimal`` is stored as ``Decimal128`` (34 significant digits; more is a 422
naming the field, never a silent rounding). MongoDB compares Decimal128, int and double
numerically, so filters and sorts are exact. A response carries the value as the schema says:
a string with ``as_string=True``, else a JSON **number written with the decimal's own digits**
(``12.50``, ``0.1``, ``12345678901234567890.12``): the standard library's encoder would round
it through a float (or, in Flask's provider, send a string), so :func:`exact_dumps` puts the
digits in after encoding.
"""

from __future__ import annotations

import decimal
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from bson import Decimal128

__all__ = ["exact_dumps", "to_decimal", "to_decimal128"]


def to_decimal128(value: decimal.Decimal) -> Decimal128:
    """``value`` as ``Decimal128``, exactly.

    :raises decimal.DecimalException: more than 34 significant digits, or out of range.
    """
    return Decimal128(value)


def to_decimal(value: Any) -> Any:
    """A stored number (``Decimal128``, its text, an int or a float) -> ``decimal.Decimal``;
    anything else unchanged."""
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, bool):
        return value
    if isinstance(value, str | int | float):
        try:
            return decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return value
    return value


def exact_dumps(dumps: Callable[[Any], str], body: Any) -> str:
    """``dumps(body)`` with every finite ``decimal.Decimal`` written as a JSON number of its
    exact digits (non-finite ones stay as ``dumps`` writes them).

    Each value is first replaced by a marker string holding a per-call random token, then the
    quoted markers are replaced by the digits: a client's text cannot forge a marker.
    """
    token = secrets.token_hex(8)
    marked = _mark(body, f"\x00{token}:")
    text = dumps(marked)
    pattern = re.compile(rf'"\\u0000{token}:([-+.0-9eE]+)"')
    return pattern.sub(lambda m: m.group(1), text)


def _mark(value: Any, prefix: str) -> Any:
    if isinstance(value, decimal.Decimal):
        # str() of a finite Decimal is a valid JSON number: "12.50", "-0", "1E+40", "0E-7"
        return prefix + str(value) if value.is_finite() else value
    if isinstance(value, Mapping):
        return {k: _mark(v, prefix) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mark(v, prefix) for v in value]
    return value
