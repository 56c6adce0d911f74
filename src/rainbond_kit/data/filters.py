"""Server-side filters: the one ``id`` -> ``_id`` mapping (strings become ``ObjectId``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rainbond_kit.data.documents import object_id
from rainbond_kit.data.fields import REMOVE_TIME, STORED_ID, is_id
from rainbond_kit.errors import BadRequestError

__all__ = ["id_value", "live_filter", "normalize_filter"]


def id_value(value: Any, *, operators: frozenset[str] | None = None) -> Any:
    """Map an ``id`` filter value: strings -> ObjectId, operator dicts and lists member-wise.

    :param operators: if given, the only operators allowed inside (others: 400).
    :raises BadRequestError: a string is not an ObjectId, or an operator is not allowed.
    """
    if isinstance(value, str):
        return object_id(value)
    if isinstance(value, Mapping):
        if operators is not None and not operators.issuperset(value):
            raise BadRequestError("operator not allowed on _id")
        return {op: id_value(v, operators=operators) for op, v in value.items()}
    if isinstance(value, list | tuple):
        return [id_value(v, operators=operators) for v in value]
    return value


def normalize_filter(filter: Mapping[str, Any] | None) -> dict[str, Any]:
    """Copy a server-side filter, mapping ``id``/``_id`` string values to ``ObjectId``."""
    out: dict[str, Any] = {}
    for key, value in (filter or {}).items():
        if is_id(key):
            out[STORED_ID] = id_value(value)
        elif key in ("$and", "$or", "$nor") and isinstance(value, list):
            out[key] = [normalize_filter(v) for v in value]
        else:
            out[key] = value
    return out


def live_filter(filter: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``filter`` that skips soft-deleted documents (unless it names ``remove_time``)."""
    query = dict(filter or {})
    query.setdefault(REMOVE_TIME, {"$exists": False})
    return query
