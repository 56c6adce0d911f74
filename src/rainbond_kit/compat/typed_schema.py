"""Marshmallow schemas built from ``{"name": str, "age": int}`` type maps, cached.

This is how the compat layer's ``Parameter.verification`` validates: the same marshmallow
machinery the resources' schemas use, with the coercions a query string needs
(``"18"`` -> ``18`` for ``int``, ``'["a"]'`` -> ``["a"]`` for ``list``).

Supported types: ``str``, ``int`` (bools and fractional numbers refused), ``float``
(``NaN``/``inf`` refused), ``bool`` (``true``/``false``/``1``/``0`` ...), ``list`` and
``dict`` (a value or its JSON text), a marshmallow ``Field`` instance, or any other class
(the value must be an instance of it).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Collection, Mapping
from typing import Any

import marshmallow as ma

__all__ = ["BLANK_MESSAGE", "REQUIRED_MESSAGE", "UNKNOWN_MESSAGE", "schema_for"]

REQUIRED_MESSAGE = "Missing data for required field."
UNKNOWN_MESSAGE = "Unknown field."
BLANK_MESSAGE = "Must not be blank."

FieldSpec = type | ma.fields.Field[Any]


class _Integer(ma.fields.Integer):
    """An integer; ``"18"`` is accepted, ``18.5`` and ``True`` are not (no silent truncation)."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        result: int = super()._validated(value)
        return result


class _InstanceOf(ma.fields.Field[Any]):
    """Any value that is an instance of ``kind``, unchanged."""

    default_error_messages = {"invalid": "Not a valid {kind}."}  # noqa: RUF012

    def __init__(self, kind: type, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, self.kind):
            raise self.make_error("invalid", kind=self.kind.__name__)
        return value


class _JSONContainer(_InstanceOf):
    """A ``list``/``dict`` given as such or as its JSON text (query strings)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise self.make_error("invalid", kind=self.kind.__name__) from None
        return super()._deserialize(value, attr, data, **kwargs)


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError(BLANK_MESSAGE)


def _field(spec: FieldSpec, *, required: bool, forbid_blank: bool) -> ma.fields.Field[Any]:
    options: dict[str, Any] = {"required": required, "allow_none": not required}
    if isinstance(spec, ma.fields.Field):
        field = copy.deepcopy(spec)
        field.required, field.allow_none = required, not required
        return field
    if spec is str:
        return ma.fields.String(validate=_not_blank if forbid_blank else None, **options)
    if spec is bool:
        return ma.fields.Boolean(**options)
    if spec is int:
        return _Integer(**options)
    if spec is float:
        return ma.fields.Float(**options)
    if spec in (list, dict):
        return _JSONContainer(spec, **options)
    if isinstance(spec, type):
        return _InstanceOf(spec, **options)
    raise TypeError(f"unsupported field type {spec!r}: use a class or a marshmallow Field")


def schema_for(
    types: Mapping[str, FieldSpec],
    *,
    optional: Collection[str] = (),
    allow_blank: bool = False,
    allow_unknown: bool = False,
) -> ma.Schema:
    """Return a (cached) schema instance validating a dict against ``types``.

    :param optional: names that may be absent (and may be ``None``); names in ``optional``
        but not in ``types`` accept any value.
    :param allow_blank: required ``str`` fields may be empty or whitespace.
    :param allow_unknown: names outside ``types``/``optional`` are dropped instead of
        refused with :data:`UNKNOWN_MESSAGE`.
    :raises TypeError: a type is neither a class nor a marshmallow field.
    """
    return _cached_schema(tuple(types.items()), frozenset(optional), allow_blank, allow_unknown)


@functools.lru_cache(maxsize=512)
def _cached_schema(
    types: tuple[tuple[str, FieldSpec], ...],
    optional: frozenset[str],
    allow_blank: bool,
    allow_unknown: bool,
) -> ma.Schema:
    fields: dict[str, ma.fields.Field[Any]] = {}
    for name, spec in types:
        required = name not in optional
        forbid_blank = required and not allow_blank
        fields[name] = _field(spec, required=required, forbid_blank=forbid_blank)
    for name in sorted(optional - fields.keys()):
        fields[name] = ma.fields.Raw(allow_none=True)
    schema_class = ma.Schema.from_dict(fields, name="TypedSchema")
    return schema_class(unknown=ma.EXCLUDE if allow_unknown else ma.RAISE)
