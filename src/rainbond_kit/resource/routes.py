"""The routes ``ResourceView.register`` generates: verbs, access decorators, declared indexes."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint
from werkzeug.exceptions import UnsupportedMediaType

from rainbond_kit.auth.decorators import permission_required
from rainbond_kit.auth.openapi import document_token_security
from rainbond_kit.auth.permissions import Code
from rainbond_kit.body import read_json
from rainbond_kit.errors import BadRequestError
from rainbond_kit.extension_state import get_state
from rainbond_kit.i18n import DocText
from rainbond_kit.indexing import declare_indexes
from rainbond_kit.query import QuerySpec, parse_list_query
from rainbond_kit.query.parse import parse_expand
from rainbond_kit.ratelimit import limit
from rainbond_kit.resource.codec import check_storable, codec_for
from rainbond_kit.resource.errordocs import resource_errors
from rainbond_kit.resource.etags import refuse_none_match
from rainbond_kit.resource.options import paging_options
from rainbond_kit.resource.references import expand_references
from rainbond_kit.resource.sort_support import indexed_sorts_only, stored_names
from rainbond_kit.resource.upsert import create_at, creates_if_absent
from rainbond_kit.schemas import (
    list_response_schema,
    output_schema,
    patch_schema,
    query_spec_from_schema,
    replace_schema,
)
from rainbond_kit.zones import current_zone

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = [
    "ViewParts",
    "access_decorators",
    "add_view",
    "collection_verbs",
    "item_verbs",
    "json_body",
    "register_hooks",
    "search_verb",
    "view_parts",
]


class ViewParts(NamedTuple):
    """What every generated view of a resource shares (see :func:`view_parts`)."""

    #: the output schema (``id`` + timestamps + the resource's fields)
    out: type[ma.Schema]
    #: what the list query may filter, sort and project
    spec: QuerySpec
    #: class attributes of each generated ``MethodView`` subclass
    attrs: dict[str, Any]


def view_parts(cls: type[ResourceView], blp: Blueprint, name: str) -> ViewParts:
    """The output schema, query spec and view attributes ``cls.register`` builds its views from.

    :raises ConfigurationError: a schema field has no exact BSON home (``check_storable``).
    """
    for checked in (cls.SCHEMA, cls.CREATE_SCHEMA, cls.UPDATE_SCHEMA):
        if checked is not None:
            check_storable(checked)
    out = output_schema(cls.SCHEMA, name)
    spec = query_spec_from_schema(
        cls.SCHEMA,
        filter_fields=cls.FILTER_FIELDS,
        sort_fields=cls.SORT_FIELDS,
        default_limit=cls.PAGE_SIZE,
        max_limit=cls.MAX_PAGE_SIZE,
    )
    spec = dataclasses.replace(spec, **paging_options(cls))
    if cls.INDEXED_SORTS_ONLY:
        spec = indexed_sorts_only(cls, spec)
    attrs: dict[str, Any] = {
        "_query_spec": spec,
        "_output_fields": ("id", *out().dump_fields),
        "_codec": codec_for(cls.SCHEMA),
        "_item_endpoint": f"{blp.name}.{name}Item",
        "_list_endpoint": f"{blp.name}.{name}Collection" if "list" in cls.OPERATIONS else None,
        "decorators": [*cls.decorators, *access_decorators(cls)],
    }
    return ViewParts(out, spec, attrs)


def add_view(
    blp: Blueprint, cls: type[ResourceView], endpoint: str, rule: str, members: dict[str, Any]
) -> None:
    """Route a ``MethodView`` subclass of ``cls`` named ``endpoint`` (``members``: its verbs
    and :func:`view_parts` attributes) at ``rule``."""
    blp.route(rule, endpoint=endpoint)(type(endpoint, (cls,), members))


def register_hooks(blp: Blueprint, cls: type[ResourceView], spec: QuerySpec | None = None) -> None:
    """Declared indexes (and sortable fields) on the app's index board, built in the
    background (:mod:`rainbond_kit.indexing`); the ``token`` scheme in the document."""
    if cls.INDEXES or spec is not None:
        sortable, stored = (spec.sortable, stored_names(spec)) if spec else (frozenset(), {})
        blp.record_once(
            lambda state: declare_indexes(
                state.app, cls.COLLECTION, cls.INDEXES, sortable=sortable, stored=stored
            )
        )
    if cls.PERMISSION is not None:
        blp.record_once(lambda state: document_token_security(get_state(state.app).api))


def access_decorators(
    cls: type[ResourceView],
    *,
    download: bool = False,
    read: bool = False,
    codes: int | None = None,
) -> list[Callable[..., Any]]:
    """Rate limit (inner) and permission check (outer, so it runs first and the limit can
    count per user); ``download=True``: GET/HEAD need the download code (16); ``read``:
    every method needs the view code (``POST /search`` is a read); ``codes``: this code
    (an action's), else the method's."""
    found: list[Callable[..., Any]] = []
    if cls.RATE_LIMIT is not None:
        found.append(limit(cls.RATE_LIMIT, scope=f"resource:{cls.COLLECTION}"))
    if cls.PERMISSION is not None:
        codes = Code.VIEW if read else codes
        found.append(permission_required(*cls.PERMISSION, codes=codes, download=download))
    return found


def json_body(func: Callable[..., Any]) -> Callable[..., Any]:
    """415 before the body is parsed when a write's ``Content-Type`` is not JSON."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not request.is_json:
            raise UnsupportedMediaType("the body must be JSON (Content-Type: application/json)")
        return func(*args, **kwargs)

    return wrapper


def _args() -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in request.args.to_dict(flat=False).items()}


def collection_verbs(
    blp: Blueprint, cls: type[ResourceView], out: type[ma.Schema], name: str, ops: frozenset[str],
) -> dict[str, Callable[..., Any]]:  # fmt: skip
    verbs: dict[str, Callable[..., Any]] = {}
    if "list" in ops:

        @blp.response(200, list_response_schema(out, name))
        @resource_errors(cls, 400, 503)
        def get(self: ResourceView) -> Response:
            query = parse_list_query(_args(), self._query_spec, zone=current_zone())
            return self._list_response(query, self.list_items(query))

        verbs["get"] = get
    if "create" in ops:
        create_schema = cls.CREATE_SCHEMA or cls.SCHEMA

        @json_body
        @blp.arguments(create_schema)
        @blp.response(201, out)
        @resource_errors(cls, 400, 409, 415, 503)
        def post(self: ResourceView, data: dict[str, Any]) -> Response:
            return self._item_response(self.create_item(data), 201)

        verbs["post"] = post
    return verbs


def search_verb(
    blp: Blueprint, cls: type[ResourceView], out: type[ma.Schema], name: str
) -> Callable[..., Any]:
    @blp.response(200, list_response_schema(out, name))
    @resource_errors(cls, 400, 415, 503)
    def post(self: ResourceView) -> Response:
        body = read_json(empty={})  # no bytes: no criteria; the JSON ``null`` is no object
        if not isinstance(body, dict):
            raise BadRequestError("the search body must be a JSON object")
        query = parse_list_query(body, self._query_spec, zone=current_zone())
        return self._list_response(query, self.search_items(query))

    verb: Callable[..., Any] = post
    return verb


def item_verbs(
    blp: Blueprint, cls: type[ResourceView], out: type[ma.Schema], name: str, ops: frozenset[str]
) -> dict[str, Callable[..., Any]]:
    verbs: dict[str, Callable[..., Any]] = {}
    update_schema = cls.UPDATE_SCHEMA or cls.SCHEMA
    if "read" in ops:

        @blp.response(200, out)
        @resource_errors(cls, 400, 404, 503)
        def get(self: ResourceView, item_id: str) -> Response:
            expand = parse_expand(request.args.get("$expand"), self._query_spec)
            doc = self.read_item(item_id)
            if expand:  # no 304: the ETag versions the item, not what it expands to
                expand_references(self, [doc], expand)
            return self._item_response(doc, conditional=not expand)

        verbs["get"] = get
    if "replace" in ops:

        @json_body
        @blp.arguments(replace_schema(update_schema, name))
        @blp.response(200, out)
        @blp.alt_response(201, schema=out, description=DocText("Created (`If-None-Match: *`)"))
        @resource_errors(cls, 400, 404, 409, 412, 415, 503)
        def put(self: ResourceView, data: dict[str, Any], item_id: str) -> Response:
            if creates_if_absent():
                return self._item_response(create_at(self, item_id, data), 201)
            refuse_none_match(self, item_id)
            return self._item_response(self.replace_item(item_id, data))

        verbs["put"] = put
    if "update" in ops:

        @json_body
        @blp.arguments(patch_schema(update_schema, name))
        @blp.response(200, out)
        @resource_errors(cls, 400, 404, 409, 412, 415, 503)
        def patch(self: ResourceView, data: dict[str, Any], item_id: str) -> Response:
            refuse_none_match(self, item_id)
            return self._item_response(self.update_item(item_id, data))

        verbs["patch"] = patch
    if "delete" in ops:

        @blp.response(204)
        @resource_errors(cls, 400, 404, 412, 503)
        def delete(self: ResourceView, item_id: str) -> Response:
            refuse_none_match(self, item_id)
            self.delete_item(item_id)
            return Response(status=204)

        verbs["delete"] = delete
    return verbs
