"""rainbond-python's ``tools`` helpers, as adapters over rainbond-kit's core.

* ``handle_abnormal`` raises the envelope (:func:`rainbond_kit.errors.abort`); ``server_time``
  is now epoch milliseconds and ``host_ip`` is resolved once, not per call.
* ``handle_date``/``handle_time_difference`` use :mod:`rainbond_kit.timeparse`: results are
  aware UTC datetimes, 13-digit timestamps keep their milliseconds, ``end`` is the day's
  last millisecond.
* ``handle_db_dict``/``handle_db_to_list`` use :func:`rainbond_kit.data.documents.to_public`:
  every datetime at any depth becomes epoch milliseconds (naive ones read as UTC), nested
  ``ObjectId``/``Decimal128``/``bytes`` become strings, missing timestamps stay missing.
* ``handle_db_id``/``handle_db_remove`` return a new dict; their argument is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rainbond_kit.data.documents import to_public, to_public_list
from rainbond_kit.data.filters import id_value, live_filter
from rainbond_kit.envelope import build_envelope
from rainbond_kit.errors import BadRequestError, http_error
from rainbond_kit.timeparse import parse_date, seconds_between
from rainbond_kit.zones import current_zone

__all__ = [
    "handle_abnormal",
    "handle_date",
    "handle_db_dict",
    "handle_db_id",
    "handle_db_remove",
    "handle_db_to_list",
    "handle_time_difference",
]

_JSON_HEADER = {"Content-Type": "application/json"}
#: Operators ``handle_db_id`` converts inside ``{"_id": {...}}``; others are refused.
_ID_OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte"})


def handle_abnormal(
    message: str,
    status: int,
    header: Mapping[str, str] | None = None,
    other: Mapping[str, Any] | None = None,
    is_raw: bool = False,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Stop the request with the envelope; ``other``'s keys are added at top level.

    ``is_raw=True`` returns ``(body, status, headers)`` instead (for an error handler).
    """
    if is_raw:
        body = build_envelope(status, message, extra=other)
        return body, status, dict(header or _JSON_HEADER)
    raise http_error(status, message, headers=header, extra=other)


def handle_date(date: str | int | None, date_type: str = "start") -> datetime | None:
    """Parse ``2020-10-1`` or a 10/13-digit timestamp; ``''`` gives ``None``.

    Dates are days in the app's time zone (``RAINBOND_TIMEZONE``, else ``TZ``, else UTC).
    ``date_type='end'`` gives the day's last millisecond (a 10-digit timestamp: its second's).
    Bad text: 400 日期字符串解析异常.
    """
    if date is None or date == "":
        return None
    try:
        return parse_date(date, end=date_type == "end", zone=current_zone())
    except BadRequestError as exc:
        raise BadRequestError(
            "日期字符串解析异常", errors={"date": [str(exc.description)]}
        ) from None


def handle_time_difference(start_timestamp: int | str, end_timestamp: int | str) -> float:
    """Seconds from ``start_timestamp`` to ``end_timestamp`` (each 10 or 13 digits)."""
    try:
        return seconds_between(start_timestamp, end_timestamp)
    except BadRequestError:
        raise BadRequestError("时间戳格式不规范") from None


def handle_db_dict(db_dict: dict[str, Any]) -> dict[str, Any]:
    """Convert a stored document to its JSON-safe form, in place (as the original did).

    The seed's examples call it without using the result, so the argument is updated;
    the same dict is returned. :func:`rainbond_kit.data.documents.to_public` is the pure form.
    """
    public = to_public(db_dict)
    db_dict.clear()
    db_dict.update(public)
    return db_dict


def handle_db_to_list(db_cursor: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Convert a cursor (or any iterable of documents) to a list of JSON-safe dicts."""
    return to_public_list(db_cursor)


def handle_db_id(data_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a filter with ``id``/``_id`` strings turned into ``ObjectId``.

    ``{"id": "..."}`` becomes ``{"_id": ObjectId(...)}``; inside ``{"_id": {"$in": [...]}}``
    (and ``$nin``, ``$ne``, ``$eq``, ``$gt`` ...) string members are converted.
    Invalid ids and other operators: 400 MongoDB _id 格式解析异常.
    """
    if not isinstance(data_dict, Mapping):
        raise BadRequestError(f"类型错误，预期 dict ,却得到 {type(data_dict).__name__}")
    result = dict(data_dict)
    if "_id" not in result and "id" in result:
        result["_id"] = result.pop("id")
    if "_id" in result:
        try:
            result["_id"] = id_value(result["_id"], operators=_ID_OPERATORS)
        except BadRequestError:
            raise BadRequestError(
                "MongoDB _id 格式解析异常", errors={"id": ["Not a valid ObjectId."]}
            ) from None
    return result


def handle_db_remove(find_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a filter that skips soft-deleted documents (unless it names ``remove_time``)."""
    return live_filter(find_dict)
