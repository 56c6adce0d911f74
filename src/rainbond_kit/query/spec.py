"""What a resource lets clients filter, sort, project and page by."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from rainbond_kit.data.counting import CountMode
from rainbond_kit.data.fields import REMOVE_TIME, stored_name
from rainbond_kit.errors import BadRequestError

__all__ = ["FieldSpec", "Kind", "QuerySpec", "parameter_error"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_PLAIN = r"[A-Za-z_][A-Za-z0-9_-]{0,63}"
#: a plain field name (``title``, nested ``address.city``) and an optional ``[operator]``
_KEY = re.compile(rf"^({_PLAIN}(?:\.{_PLAIN}){{0,7}})(?:\[([^\[\]]{{0,20}})\])?$")


class Kind(Enum):
    """How a field's filter values are typed and matched."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    DECIMAL = "decimal"  # exact: values become Decimal128 (compared numerically by MongoDB)
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    OBJECTID = "objectid"
    ANY = "any"  # untyped (compat): strings match as text, JSON numbers/booleans exactly


@dataclass(frozen=True)
class FieldSpec:
    """A filterable field: its value kind, whether it stores a list of them, its stored
    name when that differs from the documented one (a marshmallow ``data_key``, a nested
    ``address.city``), and the only values it may hold (an ``Enum``), if any."""

    kind: Kind
    many: bool = False
    stored: str | None = None
    choices: tuple[str | int | float | bool, ...] | None = None


@dataclass(frozen=True)
class QuerySpec:
    """What a resource allows clients to filter, sort, project and page by.

    ``open_fields`` (the compat layer's mode) accepts any plain field name not starting with
    ``_`` as an untyped filter, but never the soft-delete marker.
    """

    fields: Mapping[str, FieldSpec]
    sortable: frozenset[str] = frozenset()
    projectable: frozenset[str] = frozenset()
    default_limit: int = 10
    max_limit: int = 100
    default_sort: tuple[tuple[str, int], ...] = (("_id", 1),)
    hidden: frozenset[str] = frozenset({REMOVE_TIME})
    open_fields: bool = False
    #: ``$count`` when the client sends none, the bound of ``bounded`` counts, the largest
    #: ``$offset`` (deeper pages go through ``$after``)
    count_mode: CountMode = "exact"
    count_limit: int = 1000
    max_offset: int = 10000
    #: reference fields ``$expand`` may name (documented names)
    expandable: frozenset[str] = frozenset()

    def _open(self, name: str) -> bool:
        return self.open_fields and _NAME.match(name) is not None and name not in self.hidden

    def field(self, name: str) -> FieldSpec | None:
        """The spec of a filterable field, or ``None`` if clients may not filter by it."""
        spec = self.fields.get(name)
        if spec is None and self._open(name):
            return FieldSpec(Kind.ANY)
        return spec if name not in self.hidden else None

    def filter_key(self, key: str) -> tuple[str, str | None]:
        """A filter parameter -> (field name, operator or ``None``).

        A declared name is taken whole first, then with an ``[op]`` suffix: every documented
        name filters, whatever its ``data_key`` (``名称``, ``first name``, ``a[b]``); any other
        must be a plain name (``_KEY``: the open fields of compat)."""
        if key in self.fields:
            return key, None
        if key.endswith("]") and "[" in key:
            name, op = key[:-1].rsplit("[", 1)
            if name in self.fields and len(op) <= 20:
                return name, op
        match = _KEY.match(key)
        return (match.group(1), match.group(2)) if match else (key, None)

    def stored_name(self, name: str) -> str:
        """The stored field of a documented name (``data_key`` -> attribute, ``id`` -> ``_id``)."""
        spec = self.fields.get(name)
        return spec.stored if spec is not None and spec.stored else stored_name(name)

    def can_sort(self, name: str) -> bool:
        return name in self.sortable or self._open(name)

    def can_project(self, name: str) -> bool:
        return name in self.projectable or self._open(name)


def parameter_error(message: str, name: str) -> BadRequestError:
    """A 400 whose ``errors`` name the offending query parameter."""
    return BadRequestError(message, errors={name: [message]})
