"""References between resources: existence checked on write, ``$expand`` on read.

A resource declares which of its fields hold the id of another resource's document::

    class Orders(ResourceView):
        REFERENCES = {"customer_id": Customers, "items.product_id": Products}

A key is a field (by attribute or ``data_key``), dotted through ``Nested`` fields and lists of
them (``items.product_id``: every line item's product); the field holds an id string (24 hex
digits) or a list of them. The value is the referenced ``ResourceView`` class.

- **On write** (POST, PUT, PATCH and :meth:`ResourceView.check_references`) every id a body
  names must be a live (not soft-deleted) document **inside the caller's scope** of the
  referenced resource (its ``scope_filter()``; with its ``PERMISSION``, the caller also needs
  that resource's view code): one ``$in`` query per reference field. Anything
  else is a 422 naming the field, the same whether the document is missing, deleted or
  someone else's, so a write never reveals that a foreign document exists.
- **On read**, ``$expand=customer_id,items.product_id`` (list, search, read) replaces each id
  by the referenced document in that resource's response form: one ``$in`` query per
  expanded field for the whole page (no N+1), under the same scope. An id that is deleted or
  outside the caller's scope stays a plain id string. Expanding a field not declared here is
  a 400.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import marshmallow as ma
from bson import ObjectId

from rainbond_kit.auth.context import current_permission
from rainbond_kit.auth.permissions import Code
from rainbond_kit.data.fields import CREATION_TIME, UPDATE_TIME
from rainbond_kit.errors import ConfigurationError, http_error
from rainbond_kit.resource.codec import Codec, codec_for

if TYPE_CHECKING:
    from rainbond_kit.resource.routes import ViewParts
    from rainbond_kit.resource.view import ResourceView

__all__ = ["Reference", "check_references", "expand_references", "with_references"]

_META = ("id", CREATION_TIME, UPDATE_TIME)


@dataclass(frozen=True)
class Reference:
    """One declared reference field."""

    #: the path by attribute names (the loaded and stored form)
    path: tuple[str, ...]
    #: the path by documented names (the response form; what ``$expand`` names)
    public: tuple[str, ...]
    #: the referenced resource
    target: type[ResourceView]
    #: the referenced resource's response codec
    codec: Codec

    @property
    def name(self) -> str:
        """The documented dotted name (``items.product_id``)."""
        return ".".join(self.public)


def with_references(cls: type[ResourceView], parts: ViewParts) -> ViewParts:
    """``parts`` with ``cls.REFERENCES`` resolved: ``$expand`` allowed for each, the views'
    ``_references``.

    :raises ConfigurationError: a key names no id field, or a value is no ``ResourceView``.
    """
    from rainbond_kit.resource.view import ResourceView  # the view module imports this one

    if not isinstance(cls.REFERENCES, Mapping):
        raise ConfigurationError(f"{cls.__name__}.REFERENCES must map field names to resources")
    found: list[Reference] = []
    for key, target in cls.REFERENCES.items():
        if not (isinstance(target, type) and issubclass(target, ResourceView)):
            raise ConfigurationError(
                f"{cls.__name__}.REFERENCES[{key!r}] must be a ResourceView subclass"
            )
        path, public = _resolve(cls.SCHEMA, key, cls.__name__)
        found.append(Reference(path, public, target, codec_for(target.SCHEMA)))
    spec = replace(parts.spec, expandable=frozenset(r.name for r in found))
    attrs = {**parts.attrs, "_query_spec": spec, "_references": tuple(found)}
    return parts._replace(spec=spec, attrs=attrs)


def _resolve(
    schema: type[ma.Schema], key: Any, owner: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    where = f"{owner}.REFERENCES[{key!r}]"
    if not isinstance(key, str) or not key:
        raise ConfigurationError(f"{where}: the key must be a field name")
    current: ma.Schema = schema()
    path: list[str] = []
    public: list[str] = []
    parts = key.split(".")
    for depth, part in enumerate(parts):
        found = next(((n, f) for n, f in current.fields.items() if part in (n, f.data_key)), None)
        if found is None:
            raise ConfigurationError(f"{where}: the schema has no field {part!r}")
        name, fld = found
        path.append(name)
        public.append(fld.data_key or name)
        inner = fld.inner if isinstance(fld, ma.fields.List) else fld
        if depth == len(parts) - 1:
            if not isinstance(inner, ma.fields.String):
                raise ConfigurationError(f"{where}: a reference field holds id strings")
        elif isinstance(inner, ma.fields.Nested):
            current = inner.schema
        else:
            raise ConfigurationError(f"{where}: {part!r} is not a nested object")
    return tuple(path), tuple(public)


def _values_at(node: Any, path: Sequence[str]) -> Iterable[Any]:
    """Every value at ``path`` under ``node``, through lists at any level."""
    if isinstance(node, list):
        for item in node:
            yield from _values_at(item, path)
    elif not path:
        if node is not None:
            yield node
    elif isinstance(node, Mapping) and path[0] in node:
        yield from _values_at(node[path[0]], path[1:])


def _replace_at(node: Any, path: Sequence[str], found: Mapping[str, Any]) -> None:
    """Replace, in place, every id string at ``path`` that ``found`` has."""
    if isinstance(node, list):
        for item in node:
            _replace_at(item, path, found)
        return
    if not isinstance(node, dict) or path[0] not in node:
        return
    if len(path) > 1:
        _replace_at(node[path[0]], path[1:], found)
        return
    value = node[path[0]]
    if isinstance(value, list):
        node[path[0]] = [found.get(v, v) if isinstance(v, str) else v for v in value]
    elif isinstance(value, str):
        node[path[0]] = found.get(value, value)


def _visible(ref: Reference, ids: set[ObjectId], projection: bool) -> list[dict[str, Any]]:
    """The referenced documents among ``ids`` the caller may see: live, in its scope and,
    when the referenced resource has a ``PERMISSION``, only with its view code (1)."""
    target = ref.target()
    if target.PERMISSION is not None and not current_permission(*target.PERMISSION).allows(
        Code.VIEW
    ):
        return []
    by_id: dict[str, Any] = {"_id": {"$in": sorted(ids)}}
    scope = target.scope_filter()
    query = {"$and": [by_id, dict(scope)]} if scope else by_id
    fields = None if projection else {"_id": 1}
    return target.repository.find(query, projection=fields)


def check_references(
    view: ResourceView, data: Mapping[str, Any], *, location: str = "json"
) -> None:
    """422 naming the first reference field of ``data`` (loaded, attribute-keyed) whose ids
    are not all live documents inside the caller's scope of the referenced resource
    (``errors[location]``: ``json`` for bodies, ``form`` for a file's metadata)."""
    for ref in view._references:
        values = [v for value in _values_at(data, ref.path) for v in _flat(value)]
        if not values:
            continue
        ids = {ObjectId(v) for v in values if isinstance(v, str) and ObjectId.is_valid(v)}
        valid = len(ids) == len(set(values))
        if valid and {ObjectId(d["id"]) for d in _visible(ref, ids, False)} == ids:
            continue
        raise http_error(
            422,
            f"{ref.name}: no such document",
            errors={location: {ref.name: [f"{ref.name}: no such document"]}},
        )


def _flat(value: Any) -> list[Any]:
    return [v for v in value if v is not None] if isinstance(value, list) else [value]


def expand_references(
    view: ResourceView, items: list[dict[str, Any]], names: Sequence[str]
) -> None:
    """Replace, in place, the ids at each ``$expand`` name of ``items`` (response form) by the
    referenced documents the caller may see: one query per name for all ``items``."""
    by_name = {ref.name: ref for ref in view._references}
    for name in names:
        ref = by_name[name]
        strings = {v for item in items for value in _values_at(item, ref.public)
                   for v in _flat(value) if isinstance(v, str)}  # fmt: skip
        ids = {ObjectId(s) for s in strings if ObjectId.is_valid(s)}
        if not ids:
            continue
        found = {d["id"]: ref.codec.public(d, _META) for d in _visible(ref, ids, True)}
        for item in items:
            _replace_at(item, ref.public, found)
