"""Server-side filters: the one ``id`` -> ``_id`` mapping (strings become ``ObjectId``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rainbond_kit.data.documents import object_id
from rainbond_kit.data.fields import STORED_ID, is_id

__all__ = ["id_value", "normalize_filter"]


def id_value(value: Any) -> Any:
    """Map an ``id`` filter value: strings -> ObjectId, operator dicts and lists member-wise."""
    if isinstance(value, str):
        return object_id(value)
    if isinstance(value, Mapping):
        return {op: id_value(v) for op, v in value.items()}
    if isinstance(value, list | tuple):
        return [id_value(v) for v in value]
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
