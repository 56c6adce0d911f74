"""Schemas derived once, at registration, from a resource's marshmallow schema.

One schema serves validation, serialization and the OpenAPI document: the output schema adds
``id`` and the timestamps, the PATCH schema is the same class made partial, the list schema
wraps the output schema, and the query language's allow-list and documented parameters are
read from the schema's fields.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import marshmallow as ma

from rainbond_kit.data.fields import CREATION_TIME, TIMESTAMP_FIELDS, UPDATE_TIME
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.i18n import DocText
from rainbond_kit.query import FieldSpec, Kind, QuerySpec

__all__ = [
    "field_spec",
    "list_response_schema",
    "output_schema",
    "patch_schema",
    "query_spec_from_schema",
    "replace_schema",
]

#: first match wins; ``Date``, ``Time`` and ``UUID`` are stored as the strings they dump to
#: (see ``resource/codec.py``), so they filter as text; ``Decimal`` is Decimal128 (exact);
#: an ``Enum`` filters by what it stores (names, or values: see :func:`_enum_spec`)
_KINDS: tuple[tuple[type[ma.fields.Field[Any]], Kind], ...] = (
    (ma.fields.Boolean, Kind.BOOLEAN),
    (ma.fields.Integer, Kind.INTEGER),
    (ma.fields.Decimal, Kind.DECIMAL),
    (ma.fields.Number, Kind.NUMBER),
    (ma.fields.Date, Kind.STRING),
    (ma.fields.Time, Kind.STRING),
    (ma.fields.UUID, Kind.STRING),  # not a String subclass in marshmallow 4
    (ma.fields.DateTime, Kind.DATETIME),
    (ma.fields.Enum, Kind.STRING),
    (ma.fields.String, Kind.STRING),
)


def field_spec(field: ma.fields.Field[Any]) -> FieldSpec | None:
    """The filter kind of a marshmallow field, or ``None`` if it cannot be filtered."""
    many = isinstance(field, ma.fields.List)
    inner = field.inner if isinstance(field, ma.fields.List) else field
    if isinstance(inner, ma.fields.Enum):
        return _enum_spec(inner, many)
    for cls, kind in _KINDS:
        if isinstance(inner, cls):
            return FieldSpec(kind, many)
    return None


def _enum_spec(field: ma.fields.Enum[Any], many: bool) -> FieldSpec | None:
    """An ``Enum`` filters by its stored form (the member's name, or with ``by_value`` its
    dumped value), typed by those values and limited to them; ``None``: not JSON scalars."""
    stored = tuple(field._serialize(member, None, None) for member in field.enum)
    if all(isinstance(v, str) for v in stored):
        kind = Kind.STRING
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in stored):
        kind = Kind.INTEGER
    elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in stored):
        kind = Kind.NUMBER
    else:
        return None
    return FieldSpec(kind, many, choices=tuple(v for v in stored if v is not None))


def _nested_spec(schema: type[ma.Schema], path: str) -> tuple[str, FieldSpec] | None:
    """A dotted ``FILTER_FIELDS``/``SORT_FIELDS`` name (``address.city``, by attribute or
    ``data_key`` at each level) through ``Nested`` (or lists of them) -> (documented name,
    spec with the stored path); ``None``: no such filterable field."""
    current: ma.Schema = schema()
    documented: list[str] = []
    stored: list[str] = []
    many = False
    parts = path.split(".")
    for depth, part in enumerate(parts):
        found = next(((n, f) for n, f in current.fields.items() if part in (n, f.data_key)), None)
        if found is None or found[1].load_only:
            return None
        name, fld = found
        documented.append(fld.data_key or name)
        stored.append(name)
        if depth == len(parts) - 1:
            spec = field_spec(fld)
            if spec is None:
                return None
            return ".".join(documented), replace(
                spec, many=spec.many or many, stored=".".join(stored)
            )
        if isinstance(fld, ma.fields.List):
            many, fld = True, fld.inner
        if not isinstance(fld, ma.fields.Nested):
            return None
        many = many or bool(fld.many)
        current = fld.schema
    return None


def _timestamp() -> ma.fields.Integer:
    return ma.fields.Integer(
        dump_only=True,
        metadata={
            "description": DocText("milliseconds since the Unix epoch"),
            "example": 1769848200000,
        },
    )


@functools.cache
def output_schema(schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """``schema`` plus the read-only ``id``, ``creation_time`` and ``update_time``."""
    fields: dict[str, Any] = {
        "id": ma.fields.String(
            dump_only=True,
            metadata={
                "description": DocText("24 hex digits"),
                "example": "65b9a1f0c2d4e6a8b0c1d2e3",
            },
        ),
        CREATION_TIME: _timestamp(),
        UPDATE_TIME: _timestamp(),
    }
    return type(f"{name}ItemSchema", (schema,), fields)


#: members of a returned item a client may send back in a PUT/PATCH body: ignored
READ_ONLY = frozenset({"id", CREATION_TIME, UPDATE_TIME})


def _read_only_keys(schema: type[ma.Schema], top: bool) -> frozenset[str]:
    dump_only = {f.data_key or n for n, f in schema().fields.items() if f.dump_only}
    return READ_ONLY | dump_only if top else frozenset(dump_only)


def _ignoring_read_only(
    schema: type[ma.Schema], cls_name: str, fields: dict[str, Any], top: bool = True
) -> type[ma.Schema]:
    """A subclass of ``schema`` that drops read-only members (``dump_only`` fields; at the top
    also ``id`` and the timestamps) from the body before loading: a GET body can be PUT back."""
    ignored = _read_only_keys(schema, top)

    def drop_read_only(self: ma.Schema, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and not ignored.isdisjoint(data):
            return {k: v for k, v in data.items() if k not in ignored}
        return data

    attrs: dict[str, Any] = {**fields, "_drop_read_only": ma.pre_load(drop_read_only)}
    return type(cls_name, (schema,), attrs)


def _has_read_only(schema: type[ma.Schema]) -> bool:
    """Whether ``schema`` or a schema nested in it (also in lists) has ``dump_only`` fields."""
    for fld in schema().fields.values():
        inner = fld.inner if isinstance(fld, ma.fields.List) else fld
        if fld.dump_only or (
            isinstance(inner, ma.fields.Nested) and _has_read_only(type(inner.schema))
        ):
            return True
    return False


def _ignoring_nested(fld: ma.fields.Field[Any], cls_name: str) -> ma.fields.Field[Any] | None:
    """A copy of a ``Nested`` field (or a list of them) whose schema ignores read-only
    members at every depth; ``None`` when it has none (the field is used as it is)."""
    inner = fld.inner if isinstance(fld, ma.fields.List) else fld
    if fld.dump_only or not isinstance(inner, ma.fields.Nested):
        return None
    nested = type(inner.schema)
    if not _has_read_only(nested):
        return None
    copied = copy.copy(inner)
    copied.nested = _replace_class(nested, cls_name, False)
    copied._schema = None
    if isinstance(fld, ma.fields.List):
        listed = copy.copy(fld)
        listed.inner = copied
        return listed
    return copied


def _replace_class(schema: type[ma.Schema], cls_name: str, top: bool) -> type[ma.Schema]:
    """``schema`` ignoring read-only members, at every depth (nested objects and lists of
    them: a GET body's nested ``dump_only`` members are no unknown fields)."""
    fields: dict[str, Any] = {}
    for attr, fld in schema().fields.items():
        copied = _ignoring_nested(fld, f"{cls_name}{attr.title()}")
        if copied is not None:
            fields[attr] = copied
    if not top and not fields and not _read_only_keys(schema, False):
        return schema
    return _ignoring_read_only(schema, cls_name, fields, top)


@functools.cache
def replace_schema(schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The PUT body: ``schema``, read-only members ignored (nested ones too)."""
    return _replace_class(schema, f"{name}ReplaceSchema", True)


def _merge_patch_class(schema: type[ma.Schema], cls_name: str, top: bool) -> type[ma.Schema]:
    """``schema`` where every optional field also accepts ``null`` (RFC 7396: remove it), and
    nested schemas likewise; required members stay non-null (removing one is a 422);
    read-only members ignored at every depth (a list of objects replaces: PUT's rules)."""
    fields: dict[str, Any] = {}
    for attr, fld in schema().fields.items():
        if fld.dump_only:
            continue
        patched = copy.copy(fld)
        patched.allow_none = not fld.required or fld.allow_none
        if isinstance(patched, ma.fields.Nested) and not patched.many:
            inner = type(patched.schema)
            patched.nested = _merge_patch_class(inner, f"{cls_name}{attr.title()}", False)
            patched._schema = None
        elif (copied := _ignoring_nested(fld, f"{cls_name}{attr.title()}")) is not None:
            patched = copied  # a list of objects, replaced whole
            patched.allow_none = not fld.required or fld.allow_none
        fields[attr] = patched
    if top:
        return _ignoring_read_only(schema, cls_name, fields)
    if _read_only_keys(schema, False):
        return _ignoring_read_only(schema, cls_name, fields, False)
    return type(cls_name, (schema,), fields)


@functools.cache
def patch_schema(schema: type[ma.Schema], name: str) -> ma.Schema:
    """The PATCH body (JSON Merge Patch): every field optional, optional ones nullable,
    read-only members ignored, under its own OpenAPI name."""
    return _merge_patch_class(schema, f"{name}PatchSchema", True)(partial=True)


@functools.cache
def list_response_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The list body: ``{"total", "items", "dummy_remove", "next"}``."""
    fields: dict[str, Any] = {
        "total": ma.fields.Integer(
            required=True,
            allow_none=True,
            metadata={"description": DocText("matching documents (null with $count=none)")},
        ),
        "items": ma.fields.List(ma.fields.Nested(item), required=True),
        "dummy_remove": ma.fields.Integer(
            required=True,
            allow_none=True,
            metadata={"description": DocText("soft-deleted documents (the filter is not applied)")},
        ),
        "next": ma.fields.String(
            required=True,
            allow_none=True,
            metadata={"description": DocText("cursor for $after (null on the last page)")},
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
    """The allow-lists of the query language, read from ``schema``'s declared fields.

    Clients use the documented names (``data_key``); ``FILTER_FIELDS``/``SORT_FIELDS`` may name
    a field by attribute or ``data_key``.

    :raises ConfigurationError: ``FILTER_FIELDS`` or ``SORT_FIELDS`` names an unknown field.
    """
    declared: dict[str, FieldSpec] = {}
    public: dict[str, str] = {}  # attribute or data_key -> documented name
    for name, field in schema().fields.items():
        key = field.data_key or name
        public[name] = public[key] = key
        if not field.load_only and (spec := field_spec(field)) is not None:
            declared[key] = replace(spec, stored=name if key != name else None)
    declared["id"] = FieldSpec(Kind.OBJECTID)
    for name in TIMESTAMP_FIELDS:
        declared.setdefault(name, FieldSpec(Kind.DATETIME))
        public.setdefault(name, name)
    public.setdefault("id", "id")
    for path in filter_fields or ():
        if isinstance(path, str) and "." in path and (nested := _nested_spec(schema, path)):
            declared[nested[0]] = nested[1]
            public[path] = public[nested[0]] = nested[0]
    if sort_fields is not None and any("." in str(n) for n in sort_fields):
        raise ConfigurationError("SORT_FIELDS cannot name nested fields (filter by them instead)")
    if filter_fields is not None:
        keep = {*_documented(filter_fields, declared, public, "FILTER_FIELDS"), *TIMESTAMP_FIELDS}
        declared = {n: s for n, s in declared.items() if n in keep or n == "id"}
    if sort_fields is not None:
        sortable = frozenset(_documented(sort_fields, declared, public, "SORT_FIELDS"))
        if unsayable := sorted(n for n in sortable if not _orderable(n)):
            raise ConfigurationError(
                f"SORT_FIELDS names fields $orderby cannot express (spaces or commas): {unsayable}"
            )
    else:
        sortable = frozenset(
            n for n, s in declared.items() if not s.many and "." not in n and _orderable(n)
        )
    projectable = frozenset(
        {*(f.data_key or n for n, f in schema().dump_fields.items()), "id", *TIMESTAMP_FIELDS}
    )
    projectable = frozenset(n for n in projectable if "," not in n)  # $fields splits on commas
    return QuerySpec(
        fields=declared,
        sortable=sortable,
        projectable=projectable,
        default_limit=default_limit,
        max_limit=max_limit,
    )


def _orderable(name: str) -> bool:
    """Whether ``$orderby`` (``field desc,other asc``) can name ``name``."""
    return "," not in name and len(name.split()) == 1 and name == name.strip()


def _documented(
    names: Sequence[str], declared: dict[str, FieldSpec], public: dict[str, str], option: str
) -> list[str]:
    if isinstance(names, str):
        raise ConfigurationError(f"{option} must be a list of field names, not a string")
    found = [public.get(n) for n in names]
    unknown = [n for n, key in zip(names, found, strict=True) if key not in declared]
    if unknown:
        raise ConfigurationError(
            f"{option} names fields the schema cannot filter or sort by: {sorted(unknown)}"
        )
    return [key for key in found if key is not None]
