"""Shared pieces of the resource contract suite (issue 12): generated schemas, valid documents,
a fresh app per resource and response validation against the app's own ``/openapi.json``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import Flask
from flask.testing import FlaskClient
from flask_smorest import Blueprint
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator

from rainbond_kit import ConfigurationError, RainbondKit, ResourceView, Settings, get_api

#: keys every item carries besides the schema's own
META = frozenset({"id", "creation_time", "update_time"})
JSON = "application/json"

#: field kinds the issue allows ``register()`` to refuse (no exact BSON home / arbitrary keys);
#: ``Decimal`` is stored as Decimal128 and must work
REFUSABLE = frozenset({"Date", "Time", "Dict", "Raw"})
SCALARS = ("String", "Integer", "Float", "Decimal", "Boolean", "DateTime", "Date", "Time")
STRINGLIKE = ("Email", "Url", "UUID", "Enum")
KINDS = (*SCALARS, *STRINGLIKE, "Dict", "List", "Nested", "ListNested", "Raw")
NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa")


class Colour(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


@dataclass(frozen=True)
class FieldSpec:
    """One generated field: its kind, options and (for Nested / ListNested) its children."""

    kind: str
    attr: str
    data_key: str | None = None
    required: bool = False
    allow_none: bool = False
    load_default: Any = ma.missing
    load_only: bool = False
    dump_only: bool = False
    children: tuple[FieldSpec, ...] = ()

    @property
    def key(self) -> str:
        return self.data_key or self.attr


def build_field(spec: FieldSpec) -> ma.fields.Field:
    """The marshmallow field ``spec`` describes."""
    opts: dict[str, Any] = {"required": spec.required, "allow_none": spec.allow_none}
    opts.update(load_only=spec.load_only, dump_only=spec.dump_only)
    if spec.data_key is not None:
        opts["data_key"] = spec.data_key
    if spec.load_default is not ma.missing:
        opts["load_default"] = spec.load_default
    kind = spec.kind
    if kind == "Decimal":
        return ma.fields.Decimal(places=2, **opts)
    if kind == "Enum":
        return ma.fields.Enum(Colour, **opts)
    if kind == "Dict":
        return ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), **opts)
    if kind == "List":
        return ma.fields.List(ma.fields.String(), **opts)
    if kind == "Nested":
        return ma.fields.Nested(build_schema(spec.children, f"N{spec.attr}"), **opts)
    if kind == "ListNested":
        return ma.fields.List(
            ma.fields.Nested(build_schema(spec.children, f"L{spec.attr}")), **opts
        )
    field_class: type[ma.fields.Field] = getattr(ma.fields, kind)
    return field_class(**opts)


_counter = itertools.count()


def build_schema(specs: tuple[FieldSpec, ...], prefix: str = "Gen") -> type[ma.Schema]:
    """A schema class with one field per spec, named uniquely (OpenAPI component names)."""
    attrs = {spec.attr: build_field(spec) for spec in specs}
    return ma.Schema.from_dict(attrs, name=f"{prefix}{next(_counter)}Schema")


# --- strategies ---------------------------------------------------------------------------


def _options(kind: str, attr: str, nested: bool) -> st.SearchStrategy[FieldSpec]:
    data_key = st.sampled_from([None, None, f"{attr}Key", f"{attr}-key"])
    if nested:
        return st.builds(FieldSpec, st.just(kind), st.just(attr), data_key, st.booleans())
    return st.one_of(
        st.builds(FieldSpec, st.just(kind), st.just(attr), data_key, st.booleans(), st.booleans()),
        st.builds(FieldSpec, st.just(kind), st.just(attr), data_key, load_only=st.just(True)),
        st.builds(FieldSpec, st.just(kind), st.just(attr), data_key, dump_only=st.just(True)),
    )


def _with_default(spec: FieldSpec) -> st.SearchStrategy[FieldSpec]:
    """Optional, loadable fields of some kinds get a ``load_default`` sometimes."""
    defaults = {"String": "dflt", "Integer": 7, "Boolean": False, "Float": 1.5}
    if spec.required or spec.dump_only or spec.kind not in defaults:
        return st.just(spec)
    value = defaults[spec.kind]
    return st.sampled_from([spec, dataclasses.replace(spec, load_default=value)])


@st.composite
def field_specs(draw: st.DrawFn, *, depth: int = 0) -> tuple[FieldSpec, ...]:
    """Between 1 and 5 fields of random kinds and options; nesting up to two levels."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5 - 2 * depth, unique=True))
    kinds = KINDS if depth == 0 else (*SCALARS, *STRINGLIKE, "List")
    specs = []
    for name in names:
        kind = draw(st.sampled_from(kinds))
        spec = draw(_options(kind, name, nested=depth > 0))
        if kind in ("Nested", "ListNested"):
            spec = dataclasses.replace(spec, children=draw(field_specs(depth=1)))
        specs.append(draw(_with_default(spec)))
    return tuple(specs)


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_ms = st.integers(0, 999).map(lambda n: n * 1000)


def _value(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """JSON values a client may send for ``spec`` (what its OpenAPI request schema allows)."""
    kind = spec.kind
    base: dict[str, st.SearchStrategy[Any]] = {
        "String": _text,
        "Integer": st.integers(-(2**53), 2**53),
        "Float": st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False),
        "Decimal": st.decimals("-99999.99", "99999.99", places=2).map(float),
        "Boolean": st.booleans(),
        "DateTime": st.builds(
            lambda d, us: d.replace(microsecond=us).isoformat() + "+00:00",
            st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1)),
            _ms,
        ),
        "Date": st.dates(
            min_value=dt.date(1900, 1, 1), max_value=dt.datetime(2100, 1, 1).date()
        ).map(str),
        "Time": st.times().map(lambda t: t.replace(microsecond=0).isoformat()),
        "Email": st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(com|org|cn)", fullmatch=True),
        "Url": st.from_regex(r"https://[a-z]{1,8}\.(com|cn)/[a-z0-9]{0,8}", fullmatch=True),
        "UUID": st.uuids().map(str),
        "Enum": st.sampled_from([c.name for c in Colour]),
        "Dict": st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.integers(-9, 9)),
        "List": st.lists(_text, max_size=3),
        "Raw": st.recursive(
            st.booleans() | st.integers(-1000, 1000) | _text,
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), inner, max_size=3)
            ),
            max_leaves=6,
        ),
    }
    if kind == "Nested":
        strategy = documents(spec.children)
    elif kind == "ListNested":
        strategy = st.lists(documents(spec.children), max_size=2)
    else:
        strategy = base[kind]
    return st.none() | strategy if spec.allow_none else strategy


@st.composite
def documents(draw: st.DrawFn, specs: tuple[FieldSpec, ...]) -> dict[str, Any]:
    """A valid request body for the schema of ``specs``, under the data_key names."""
    doc: dict[str, Any] = {}
    for spec in specs:
        if spec.dump_only:
            continue
        if spec.required or draw(st.booleans()):
            doc[spec.key] = draw(_value(spec))
    return doc


# --- apps -----------------------------------------------------------------------------------


def make_resource(
    schema: type[ma.Schema], *, collection: str | None = None, **options: Any
) -> type[ResourceView]:
    """A ``ResourceView`` subclass over ``schema`` (``options`` are its UPPER-case attributes)."""
    attrs = {"COLLECTION": collection or f"c{uuid.uuid4().hex[:10]}", "SCHEMA": schema, **options}
    return type(f"R{uuid.uuid4().hex[:8]}", (ResourceView,), attrs)


def serve(
    settings: Settings, resource: type[ResourceView], prefix: str = "/things", **config: Any
) -> Flask:
    """A fresh app serving ``resource`` under ``prefix`` (register errors propagate)."""
    app = Flask(f"contract{next(_counter)}")
    app.config.update(TESTING=True, **config)
    RainbondKit(app, settings=settings)
    blueprint = Blueprint("things", __name__, url_prefix=prefix)
    try:
        resource.register(blueprint, name="Things")
        get_api(app).register_blueprint(blueprint)
    except BaseException:
        RainbondKit.shutdown(app)
        raise
    return app


@dataclass
class OpenAPI:
    """The app's served document; validates bodies against an operation's response schema."""

    document: dict[str, Any]

    @classmethod
    def of(cls, client: FlaskClient) -> OpenAPI:
        response = client.get("/openapi.json")
        assert response.status_code == 200
        return cls(response.get_json())

    def schema(self, path: str, method: str, status: int) -> dict[str, Any]:
        operation = self.document["paths"][path][method.lower()]
        body = operation["responses"][str(status)]
        body = self._deref(body)
        return self._deref(body["content"][JSON]["schema"])

    def validate(self, path: str, method: str, status: int, body: Any) -> None:
        schema = self.schema(path, method, status)
        OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER).validate(body)

    def _deref(self, node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target: Any = self.document
                for part in node["$ref"].removeprefix("#/").split("/"):
                    target = target[part]
                return self._deref(target)
            return {k: self._deref(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self._deref(v) for v in node]
        return node


def serve_generated(
    settings: Settings, specs: tuple[FieldSpec, ...], **options: Any
) -> Flask | None:
    """``serve`` a resource over the schema of ``specs``; ``None`` when ``register()`` refused
    it acceptably (naming a field of a kind the issue lets it refuse); else AssertionError."""
    try:
        return serve(settings, make_resource(build_schema(specs), **options))
    except Exception as error:  # judged below
        refusal = error
    if not register_refusal(specs, refusal):
        raise AssertionError(f"register() refused {specs}: {refusal!r}") from refusal
    return None


def register_refusal(specs: tuple[FieldSpec, ...], error: Exception) -> bool:
    """True when ``error`` is an acceptable refusal: it names a refusable field of ``specs``."""
    if not isinstance(error, (ConfigurationError, TypeError, ValueError)):
        return False
    message = str(error)
    return any(s.kind in REFUSABLE and s.attr in message for s in walk(specs))


def walk(specs: tuple[FieldSpec, ...]) -> Iterator[FieldSpec]:
    for spec in specs:
        yield spec
        yield from walk(spec.children)


def invalid_value(spec: FieldSpec) -> Any:
    """A JSON value ``spec`` must refuse (``None`` for kinds that accept anything)."""
    bad: dict[str, Any] = {
        "String": 123, "Integer": "x", "Float": "x", "Decimal": "x", "Boolean": "maybe",
        "DateTime": "not a date", "Date": "2020-13-45", "Time": "25:61", "Email": "no-at",
        "Url": "not a url", "UUID": "xyz", "Enum": "PURPLE", "Dict": [1], "List": {"a": 1},
        "Nested": 5, "ListNested": 5,
    }  # fmt: skip
    return bad.get(spec.kind)


def post_json(client: FlaskClient, url: str, body: Any, **headers: str) -> Any:
    """POST ``body`` as JSON text exactly (no client-side re-encoding of keys)."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type=JSON, headers=headers)
