"""A resource schema's stored form and response form: schema = response = storage.

A document is stored under the schema's attribute names with every field in its **dumped**
(JSON) form, except ``DateTime`` (a BSON date, UTC, millisecond precision, so that it sorts and
range-filters as a date), ``Decimal`` (BSON Decimal128, exact; see ``resource/decimals.py``)
and ``Nested``/``List`` (recursed into). ``Enum``, ``UUID``, ``Date``
and ``Time`` are therefore stored as the strings the schema documents (ISO dates and times sort
as text in date order). A response is the stored document under the documented names
(``data_key``), ``DateTime`` as ISO 8601 strings: for a loaded value ``v``,
``Codec.public(stored(Codec.store(v))) == schema.dump(v)`` (a test asserts it over generated
schemas), without running marshmallow on every read. Fields without an exact BSON home are
refused by :func:`check_storable` when the resource is registered.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma

from rainbond_kit.data.epoch import from_millis
from rainbond_kit.data.fields import CREATION_TIME, REMOVE_TIME, UPDATE_TIME, VERSION
from rainbond_kit.errors import ConfigurationError, http_error
from rainbond_kit.resource.decimals import to_decimal, to_decimal128

__all__ = ["Codec", "check_storable", "codec_for"]

Convert = Callable[[Any], Any]

_DECIMAL_RANGE = "a decimal value has more than 34 significant digits or is out of range"
#: field types refused at ``register()`` and why
_REFUSED: tuple[tuple[type[ma.fields.Field[Any]], str], ...] = (
    (ma.fields.TimeDelta, "TimeDelta is not supported (use Integer seconds)"),
)  # fmt: skip


#: stored fields the kit manages: a field a client writes must not be stored under one (a
#: ``remove_time`` soft-deleted the document it created, a ``_version`` forged its ETag)
_MANAGED = frozenset({"_id", "id", CREATION_TIME, UPDATE_TIME, REMOVE_TIME, VERSION})
#: response members the kit adds (the version travels as ``_version`` until the ETag is set)
_ADDED = frozenset({"id", CREATION_TIME, UPDATE_TIME, VERSION})
_FREE = " would store members clients choose; declare them, or use a Dict field"


def check_storable(schema: type[ma.Schema] | ma.Schema, where: str = "") -> None:
    """Refuse (``ConfigurationError`` naming the field) fields that cannot be stored exactly,
    top-level fields named like the fields the kit manages (:func:`_check_name`), and
    ``unknown=INCLUDE`` at any depth: it would store whatever members a client sends, a
    ``remove_time`` or ``_version`` included (a free-form object is a ``Dict`` field)."""
    instance = schema() if isinstance(schema, type) else schema
    if instance.unknown == ma.INCLUDE:
        raise ConfigurationError(f"SCHEMA {where.rstrip('.') or 'itself'}: unknown=INCLUDE{_FREE}")
    for name, fld in instance.fields.items():
        path = f"{where}{name}"
        if "." in name or name.startswith("$"):  # a path or an operator to MongoDB's updates
            raise ConfigurationError(f"SCHEMA field {path!r}: no field name (use a data_key)")
        if not where:
            _check_name(name, fld)
        inner = _unwrap(fld)
        for kind, why in _REFUSED:
            if isinstance(inner, kind):
                raise ConfigurationError(f"SCHEMA field {path!r}: {why}")
        if isinstance(inner, ma.fields.Nested):
            if inner.unknown == ma.INCLUDE:
                raise ConfigurationError(f"SCHEMA field {path!r}: unknown=INCLUDE{_FREE}")
            check_storable(inner.schema, f"{path}.")


def _check_name(name: str, fld: ma.fields.Field[Any]) -> None:
    """A client-written field stored under a managed name, a member named like one the kit
    adds to responses under another attribute, or ``_version`` at all: ``ConfigurationError``.
    A ``dump_only`` field under its own managed name (documenting ``creation_time``) is fine."""
    key = fld.data_key or name
    if VERSION in (name, key):
        why = f"{VERSION!r} is the kit's write version"
    elif name in _MANAGED and not fld.dump_only:
        why = f"clients would write the kit-managed field {name!r}; make it dump_only"
    elif key != name and key in _ADDED:
        why = f"data_key {key!r} is a member the kit adds to every item"
    elif key.startswith("$"):
        why = f"{key!r}: names starting with $ are the list query's control parameters"
    else:
        return
    raise ConfigurationError(f"SCHEMA field {name!r}: {why}")


def _unwrap(fld: ma.fields.Field[Any]) -> ma.fields.Field[Any]:
    while isinstance(fld, ma.fields.List):
        fld = fld.inner
    return fld


def _utc_millis(value: Any) -> Any:
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    try:
        value = value.astimezone(dt.timezone.utc)
    except OverflowError:  # past year 9999 in UTC: the store's encoder refuses it (a 422)
        return value
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass
class _Node:
    attr: str
    key: str
    store: Convert
    public: Convert | None  # None: the stored value is the response value
    #: client-owned (loadable) field
    loadable: bool = True
    #: write-only (``load_only``) field: never returned
    write_only: bool = False
    #: the codec of a single ``Nested`` field (a JSON Merge Patch recurses into it)
    child: Codec | None = None


@dataclass
class Codec:
    """Stored form <-> response form of one schema (see the module docstring)."""

    nodes: dict[str, _Node] = field(default_factory=dict)
    #: attribute names in the response (dump fields), in schema order
    dumped: tuple[str, ...] = ()
    #: True when the response is the stored document restricted to ``dumped`` (no renames,
    #: no conversions): the read fast path
    identity: bool = True
    #: attribute names of the required fields
    required: frozenset[str] = frozenset()
    #: a response may hold ``decimal.Decimal`` values (send them with ``exact_dumps``)
    decimals: bool = False

    @property
    def names(self) -> dict[str, str]:
        """Stored (attribute) name -> the name clients use (``data_key``), top-level fields."""
        return {name: node.key for name, node in self.nodes.items()}

    def store(self, loaded: Mapping[str, Any]) -> dict[str, Any]:
        """Loaded (attribute-keyed) values -> the stored document (keys not in the schema kept)."""
        out: dict[str, Any] = {}
        for attr, value in loaded.items():
            node = self.nodes.get(attr)
            out[attr] = value if node is None or value is None else node.store(value)
        return out

    def public(self, doc: Mapping[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
        """A stored document in the repository's public form -> the response.

        ``keep`` names extra keys passed through unchanged (``id`` and the timestamps).
        """
        out = {k: doc[k] for k in keep if k in doc}
        if self.identity:
            for attr in self.dumped:
                if attr in doc:
                    out[attr] = doc[attr]
            return out
        for attr in self.dumped:
            if attr in doc:
                node = self.nodes[attr]
                value = doc[attr]
                out[node.key] = (
                    value if node.public is None or value is None else node.public(value)
                )
        return out


def codec_for(schema: type[ma.Schema] | ma.Schema) -> Codec:
    """The codec of ``schema`` (built once per schema class at registration)."""
    instance = schema() if isinstance(schema, type) else schema
    codec = Codec()
    for name, fld in instance.fields.items():
        node = _node(name, fld)
        codec.nodes[name] = node
        if fld.required:
            codec.required |= {name}
        if not fld.load_only:
            codec.dumped = (*codec.dumped, name)
            if node.public is not None or node.key != name:
                codec.identity = False
            codec.decimals = codec.decimals or _has_decimal_numbers(fld)
    return codec


def _has_decimal_numbers(fld: ma.fields.Field[Any]) -> bool:
    """Whether ``fld`` dumps ``decimal.Decimal`` values (a ``Decimal`` without ``as_string``)."""
    fld = _unwrap(fld)
    if isinstance(fld, ma.fields.Decimal):
        return not fld.as_string
    if isinstance(fld, ma.fields.Nested):
        return codec_for(fld.schema).decimals
    return False


def _node(name: str, fld: ma.fields.Field[Any]) -> _Node:
    store, public = _converters(fld)
    child = None
    if isinstance(fld, ma.fields.Nested) and not fld.many:
        child = codec_for(fld.schema)
    return _Node(
        name, fld.data_key or name, store, public, not fld.dump_only, bool(fld.load_only), child
    )


def _converters(fld: ma.fields.Field[Any]) -> tuple[Convert, Convert | None]:
    if isinstance(fld, ma.fields.DateTime) and not isinstance(fld, ma.fields.Date | ma.fields.Time):
        return _utc_millis, _datetime_public(fld)
    if isinstance(fld, ma.fields.Nested):
        child = codec_for(fld.schema)
        many = bool(fld.many)
        pure = child.identity and len(child.dumped) == len(child.nodes)
        public = None if pure else _nested_public(child, many)
        return _nested_store(child, many), public
    if isinstance(fld, ma.fields.Decimal):
        return _decimal_store(fld), _decimal_public(fld)
    if isinstance(fld, ma.fields.Dict | ma.fields.Raw):
        return _key_sorted(_dumped(fld)), None
    if isinstance(fld, ma.fields.List):
        inner_store, inner_public = _converters(fld.inner)
        return _each(inner_store), None if inner_public is None else _each(inner_public)
    return _dumped(fld), None


def _datetime_public(fld: ma.fields.Field[Any]) -> Convert:
    def public(value: Any) -> Any:
        stored = value
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                value = from_millis(value)
            except OverflowError:  # no datetime (another program's number): as stored
                return stored
        if not isinstance(value, dt.datetime):  # written outside the kit: returned as stored
            return value
        return fld._serialize(value, None, None)

    return public


#: fields whose stored form is a string: a string value is already stored (a document read
#: back and returned through a schema, e.g. by an action)
_STRING_FORMS = (ma.fields.UUID, ma.fields.Date, ma.fields.Time)


def _decimal_store(fld: ma.fields.Field[Any]) -> Convert:
    def store(value: Any) -> Any:
        if not isinstance(value, decimal.Decimal):
            return value
        try:
            return to_decimal128(value)
        except decimal.DecimalException:
            name = fld.data_key or fld.name or "value"
            raise http_error(
                422, _DECIMAL_RANGE, errors={"json": {name: [_DECIMAL_RANGE]}}
            ) from None

    return store


def _decimal_public(fld: ma.fields.Field[Any]) -> Convert:
    def public(value: Any) -> Any:
        number = to_decimal(value)
        if not isinstance(number, decimal.Decimal):
            return value
        try:
            return fld._serialize(number, None, None)
        except decimal.DecimalException:
            # written outside the kit with more digits than ``places`` leaves room for in the
            # decimal context (a 500 on every read): its own digits, never rounded
            return str(number) if getattr(fld, "as_string", False) else number

    return public


def _key_sorted(convert: Convert) -> Convert:
    """Free-form objects are stored with their keys sorted, at every depth: the order Flask's
    JSON provider sends them in. MongoDB compares objects key by key in order, so a GET body
    PUT back must find the same order stored (else an unchanged PUT writes and moves the
    version); found by the derandomized contract test once ``Decimal`` fields were served."""

    def ordered(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: ordered(value[k]) for k in sorted(value, key=str)}
        if isinstance(value, list):
            return [ordered(v) for v in value]
        return value

    def store(value: Any) -> Any:
        return ordered(convert(value))

    return store


def _dumped(fld: ma.fields.Field[Any]) -> Convert:
    if isinstance(fld, ma.fields.Enum):

        def store_enum(value: Any) -> Any:
            # an Enum member is dumped; anything else is its stored value already
            return fld._serialize(value, None, None) if isinstance(value, enum.Enum) else value

        return store_enum
    stored_str = isinstance(fld, _STRING_FORMS)

    def store(value: Any) -> Any:
        if stored_str and isinstance(value, str):
            return value
        return fld._serialize(value, None, None)

    return store


def _each(convert: Convert) -> Convert:
    def each(values: Any) -> Any:
        if not isinstance(values, list):
            return values
        return [None if v is None else convert(v) for v in values]

    return each


def _nested_store(child: Codec, many: bool) -> Convert:
    def store(value: Any) -> Any:
        if many:
            return [child.store(v) if isinstance(v, Mapping) else v for v in value]
        return child.store(value) if isinstance(value, Mapping) else value

    return store


def _nested_public(child: Codec, many: bool) -> Convert:
    def public(value: Any) -> Any:
        if many and isinstance(value, list):
            return [child.public(v) if isinstance(v, Mapping) else v for v in value]
        return child.public(value) if isinstance(value, Mapping) else value

    return public
