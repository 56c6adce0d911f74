"""Schemas derived once, at registration, from a resource's marshmallow schema.

One schema serves validation, serialization and the OpenAPI document: the output schema adds
``id`` and the timestamps, the PATCH schema is the same class made partial, the list schema
wraps the output schema, and the query language's allow-list and documented parameters are
read from the schema's fields.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import marshmallow as ma

from rainbond_kit.data.fields import CREATION_TIME, TIMESTAMP_FIELDS, UPDATE_TIME
from rainbond_kit.query import FieldSpec, Kind, QuerySpec

__all__ = [
    "field_spec",
    "list_response_schema",
    "output_schema",
    "patch_schema",
    "query_spec_from_schema",
]

_KINDS: tuple[tuple[type[ma.fields.Field[Any]], Kind], ...] = (
    (ma.fields.Boolean, Kind.BOOLEAN),
    (ma.fields.Integer, Kind.INTEGER),
    (ma.fields.Number, Kind.NUMBER),
    (ma.fields.DateTime, Kind.DATETIME),
    (ma.fields.Date, Kind.DATETIME),
    (ma.fields.String, Kind.STRING),
)


def field_spec(field: ma.fields.Field[Any]) -> FieldSpec | None:
    """The filter kind of a marshmallow field, or ``None`` if it cannot be filtered."""
    many = isinstance(field, ma.fields.List)
    inner = field.inner if isinstance(field, ma.fields.List) else field
    for cls, kind in _KINDS:
        if isinstance(inner, cls):
            return FieldSpec(kind, many)
    return None


def _timestamp() -> ma.fields.Integer:
    return ma.fields.Integer(
        dump_only=True,
        metadata={"description": "milliseconds since the Unix epoch", "example": 1769848200000},
    )


@functools.cache
def output_schema(schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """``schema`` plus the read-only ``id``, ``creation_time`` and ``update_time``."""
    fields: dict[str, Any] = {
        "id": ma.fields.String(
            dump_only=True,
            metadata={"description": "24 hex digits", "example": "65b9a1f0c2d4e6a8b0c1d2e3"},
        ),
        CREATION_TIME: _timestamp(),
        UPDATE_TIME: _timestamp(),
    }
    return type(f"{name}ItemSchema", (schema,), fields)


@functools.cache
def patch_schema(schema: type[ma.Schema], name: str) -> ma.Schema:
    """``schema`` with every field optional (PATCH), under its own OpenAPI name."""
    cls: type[ma.Schema] = type(f"{name}PatchSchema", (schema,), {})
    return cls(partial=True)


@functools.cache
def list_response_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The list body: ``{"total", "items", "dummy_remove", "next"}``."""
    fields: dict[str, Any] = {
        "total": ma.fields.Integer(
            required=True,
            allow_none=True,
            metadata={"description": "matching documents (null with $count=none)"},
        ),
        "items": ma.fields.List(ma.fields.Nested(item), required=True),
        "dummy_remove": ma.fields.Integer(
            required=True,
            allow_none=True,
            metadata={"description": "soft-deleted documents (the filter is not applied)"},
        ),
        "next": ma.fields.String(
            required=True,
            allow_none=True,
            metadata={"description": "cursor for $after (null on the last page)"},
        ),
    }
    return type(f"{name}ListSchema", (ma.Schema,), fields)


def query_spec_from_schema(
    schema: type[ma.Schema],
    *,
    filter_fields: Sequence[str] | None = None,
    sort_fields: Sequence[str] | None = None,
    default_limit: int = 10,
    max_limit: int = 100,
) -> QuerySpec:
    """The allow-lists of the query language, read from ``schema``'s declared fields."""
    declared = {
        name: spec
        for name, field in schema().fields.items()
        if not field.load_only and (spec := field_spec(field)) is not None
    }
    declared["id"] = FieldSpec(Kind.OBJECTID)
    for name in TIMESTAMP_FIELDS:
        declared.setdefault(name, FieldSpec(Kind.DATETIME))
    if filter_fields is not None:
        unknown = set(filter_fields) - declared.keys()
        if unknown:
            raise ValueError(f"FILTER_FIELDS not in the schema: {sorted(unknown)}")
        keep = {*filter_fields, *TIMESTAMP_FIELDS, "id"}
        declared = {n: s for n, s in declared.items() if n in keep}
    sortable = (
        frozenset(sort_fields)
        if sort_fields is not None
        else frozenset(n for n, s in declared.items() if not s.many)
    )
    projectable = frozenset({*schema().dump_fields, "id", *TIMESTAMP_FIELDS})
    return QuerySpec(
        fields=declared,
        sortable=sortable,
        projectable=projectable,
        default_limit=default_limit,
        max_limit=max_limit,
    )
