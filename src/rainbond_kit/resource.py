"""``ResourceView``: declare a collection and a schema, get a documented, validated REST resource.

::

    class Books(ResourceView):
        COLLECTION = "books"
        SCHEMA = BookSchema

    blp = Blueprint("books", __name__, url_prefix="/api/v1/books")
    Books.register(blp)
    get_api(app).register_blueprint(blp)

``register`` builds two ``MethodView`` subclasses of the user's class, one for the collection
(``GET`` list, ``POST`` create, ``POST /search``) and one for an item (``GET``, ``PUT``,
``PATCH``, ``DELETE``); the verbs are generated there, decorated with flask-smorest from the
same schemas, so ``ResourceView`` itself defines no verb (``MethodView`` decides the served
methods with ``hasattr``). Override an operation by defining its hook (``list_items``,
``create_item``, ...), switch one off with ``OPERATIONS``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import urlencode

import marshmallow as ma
import pymongo
from flask import Response, current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from rainbond_kit.auth.context import current_row_filter
from rainbond_kit.auth.decorators import permission_required
from rainbond_kit.auth.openapi import TOKEN_SECURITY, document_token_security
from rainbond_kit.data.epoch import from_millis
from rainbond_kit.data.fields import UPDATE_TIME
from rainbond_kit.documents import object_id
from rainbond_kit.errors import (
    BadRequestError,
    NotFoundError,
    PreconditionFailedError,
    ServiceUnavailableError,
)
from rainbond_kit.extension_state import get_container, get_state
from rainbond_kit.query import ListQuery, QuerySpec, parse_list_query
from rainbond_kit.ratelimit import limit
from rainbond_kit.repository import MongoRepository, Page
from rainbond_kit.schemas import (
    list_response_schema,
    output_schema,
    patch_schema,
    query_parameters,
    query_spec_from_schema,
)

__all__ = ["ResourceView"]

log = logging.getLogger("rainbond_kit.resource")

ALL_OPERATIONS = frozenset({"list", "search", "create", "read", "replace", "update", "delete"})


class ResourceView(MethodView):
    """Base class of a MongoDB-backed REST resource; subclass and set the UPPER-case attributes."""

    #: collection name (required)
    COLLECTION: ClassVar[str]
    #: marshmallow schema: validation, serialization and documentation (required)
    SCHEMA: ClassVar[type[ma.Schema]]
    #: schemas for POST and PUT/PATCH bodies (default: ``SCHEMA``)
    CREATE_SCHEMA: ClassVar[type[ma.Schema] | None] = None
    UPDATE_SCHEMA: ClassVar[type[ma.Schema] | None] = None
    #: fields clients may filter / sort by (default: the schema's fields, plus ``id`` and timestamps)
    FILTER_FIELDS: ClassVar[Sequence[str] | None] = None
    SORT_FIELDS: ClassVar[Sequence[str] | None] = None
    #: ``DELETE`` sets ``remove_time`` instead of removing the document
    SOFT_DELETE: ClassVar[bool] = True
    #: indexes created before the resource's first request (idempotent)
    INDEXES: ClassVar[Sequence[pymongo.IndexModel]] = ()
    #: default and maximum ``$limit``; over the maximum is a 400
    PAGE_SIZE: ClassVar[int] = 10
    MAX_PAGE_SIZE: ClassVar[int] = 100
    #: ``ETag`` on item reads and ``If-Match`` on writes (412 on mismatch)
    ETAG: ClassVar[bool] = False
    #: operations served; remove one to switch it off
    OPERATIONS: ClassVar[frozenset[str]] = ALL_OPERATIONS
    #: ``(center_name, permission_name)`` in the auth center: every operation then needs a
    #: token and the method's code (GET 1, POST 2, PUT/PATCH 4, DELETE 8); see ``rainbond_kit.auth``
    PERMISSION: ClassVar[tuple[str, str] | None] = None
    #: with ``PERMISSION``: the field holding the creator's user name; reads and writes are then
    #: limited to the caller's groups and, without ``is_all_data``, to their own documents
    ROW_LEVEL_FIELD: ClassVar[str | None] = None
    #: per-client rate limit of every operation, e.g. ``"100/minute"`` (needs Redis)
    RATE_LIMIT: ClassVar[str | None] = None

    _query_spec: ClassVar[QuerySpec]
    _output_fields: ClassVar[tuple[str, ...]]
    _item_endpoint: ClassVar[str]

    # --- hooks ------------------------------------------------------------------------------

    def scope_filter(self) -> Mapping[str, Any] | None:
        """A server-side filter ANDed into every read and write (row-level access).

        Default: the auth center's row filter when ``ROW_LEVEL_FIELD`` is set, else none.
        """
        if self.PERMISSION is not None and self.ROW_LEVEL_FIELD is not None:
            return current_row_filter(*self.PERMISSION, user_field_name=self.ROW_LEVEL_FIELD)
        return None

    def before_insert(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Transform a validated document before it is inserted."""
        return doc

    def before_update(self, changes: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        """Transform validated changes before a PUT (``partial=False``) or PATCH."""
        return changes

    # --- services ---------------------------------------------------------------------------

    @property
    def repository(self) -> MongoRepository:
        """The repository of this resource's collection (from the app's container)."""
        repository: MongoRepository = get_container().repository(
            collection=self.COLLECTION, soft_delete=self.SOFT_DELETE, indexes=self.INDEXES
        )
        return repository

    # --- operations (override to customise) -------------------------------------------------

    def list_items(self, query: ListQuery) -> Page:
        return self.repository.page(
            query, scope=self.scope_filter(), projection=self._output_fields
        )

    def create_item(self, data: dict[str, Any]) -> dict[str, Any]:
        doc = self.before_insert(dict(data))
        scope = self.scope_filter()
        if scope:  # stamp plain equality conditions (owner, tenant) onto the new document
            doc.update(
                {
                    k: v
                    for k, v in scope.items()
                    if not k.startswith("$") and not isinstance(v, Mapping)
                }
            )
        return self._public(self.repository.insert_one(doc))

    def read_item(self, item_id: str) -> dict[str, Any]:
        return self._public(self._read(item_id))

    def write_item(self, item_id: str, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        changes = self.before_update(dict(data), partial=partial)
        self._read(item_id)  # 404 (or scope refusal) before writing
        doc = self.repository.update_by_id(
            item_id, changes, replace=not partial, expected_update_time=self._if_match()
        )
        return self._public(doc)

    def delete_item(self, item_id: str) -> None:
        self._read(item_id)
        self.repository.delete_by_id(item_id, expected_update_time=self._if_match())

    # --- internals --------------------------------------------------------------------------

    def _read(self, item_id: str) -> dict[str, Any]:
        scope = self.scope_filter()
        if scope:
            doc = self.repository.find_one({"$and": [{"_id": object_id(item_id)}, dict(scope)]})
            if doc is None:
                raise NotFoundError(f"no document with id {item_id}")
            return doc
        return self.repository.get(item_id)

    def _public(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        keep = self._output_fields
        return {k: v for k, v in doc.items() if k in keep}

    def _if_match(self) -> dt.datetime | None:
        if not self.ETAG:
            return None
        header = request.headers.get("If-Match")
        if header is None or header.strip() == "*":
            return None
        tag = header.strip().removeprefix("W/").strip('"')
        if not tag.isascii() or not tag.isdigit():
            raise PreconditionFailedError("If-Match does not name a current ETag")
        try:
            return from_millis(int(tag))
        except OverflowError:
            raise PreconditionFailedError("If-Match does not name a current ETag") from None

    def _json(
        self, body: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        response = current_app.response_class(
            current_app.json.dumps(body, ensure_ascii=False), mimetype="application/json"
        )
        response.status_code = status
        response.headers.update(headers or {})
        return response

    def _item_response(self, doc: Mapping[str, Any], status: int = 200) -> Response:
        headers: dict[str, str] = {}
        if self.ETAG and UPDATE_TIME in doc:
            headers["ETag"] = f'"{doc[UPDATE_TIME]}"'
        if status == 201:
            headers["Location"] = url_for(self._item_endpoint, item_id=doc["id"])
        return self._json(doc, status, headers)

    def _list_response(self, query: ListQuery, page: Page) -> Response:
        body = {
            "total": page.total,
            "items": page.items,
            "dummy_remove": page.dummy_remove,
            "next": page.next_cursor,
        }
        headers = {}
        if page.total is not None:
            headers["X-Total-Count"] = str(page.total)
        links = _links(query, page)
        if links:
            headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)
        return self._json(body, headers=headers)

    # --- registration -----------------------------------------------------------------------

    @classmethod
    def register(cls, blp: Blueprint, url: str = "/", *, name: str | None = None) -> None:
        """Add this resource's routes to ``blp``: ``url`` and ``url/<item_id>``."""
        name = name or cls.__name__
        schema = cls.SCHEMA
        out = output_schema(schema, name)
        spec = query_spec_from_schema(
            schema,
            filter_fields=cls.FILTER_FIELDS,
            sort_fields=cls.SORT_FIELDS,
            default_limit=cls.PAGE_SIZE,
            max_limit=cls.MAX_PAGE_SIZE,
        )
        attrs: dict[str, Any] = {
            "_query_spec": spec,
            "_output_fields": ("id", *out().dump_fields),
            "_item_endpoint": f"{blp.name}.{name}Item",
            "decorators": [*cls.decorators, *_access_decorators(cls)],
        }
        base = url.rstrip("/")
        ops = cls.OPERATIONS
        collection_verbs = _collection_verbs(blp, cls, out, spec, name, ops)
        item_verbs = _item_verbs(blp, cls, out, name, ops)
        if collection_verbs:
            view = type(f"{name}Collection", (cls,), {**attrs, **collection_verbs})
            blp.route(base if blp.url_prefix else base or "/", endpoint=f"{name}Collection")(view)
        if "search" in ops:
            search = type(
                f"{name}Search", (cls,), {**attrs, "post": _search_verb(blp, cls, out, name)}
            )
            blp.route(f"{base}/search", endpoint=f"{name}Search")(search)
        if item_verbs:
            view = type(f"{name}Item", (cls,), {**attrs, **item_verbs})
            blp.route(f"{base}/<item_id>", endpoint=f"{name}Item")(view)
        if cls.INDEXES:
            blp.before_request(functools.partial(_ensure_indexes, cls))
        if cls.PERMISSION is not None:
            blp.record_once(lambda state: document_token_security(get_state(state.app).api))


def _access_decorators(cls: type[ResourceView]) -> list[Callable[..., Any]]:
    """Rate limit (inner) and permission check (outer, so it runs first and the limit can
    count per user)."""
    found: list[Callable[..., Any]] = []
    if cls.RATE_LIMIT is not None:
        found.append(limit(cls.RATE_LIMIT, scope=f"resource:{cls.COLLECTION}"))
    if cls.PERMISSION is not None:
        found.append(permission_required(*cls.PERMISSION))
    return found


def _ensure_indexes(cls: type[ResourceView]) -> None:
    """Create ``cls``'s declared indexes before its first request (no store I/O at registration).

    Runs once per app and container clients (a test override starts over); if MongoDB is down
    it is retried on the next request.
    """
    state = get_state()
    key = f"{cls.__module__}.{cls.__qualname__}"
    if key in state.indexed:
        return
    with state.lock:
        if key in state.indexed:
            return
        repository: MongoRepository = state.container.repository(
            collection=cls.COLLECTION, soft_delete=cls.SOFT_DELETE, indexes=cls.INDEXES
        )
        try:
            repository.ensure_indexes()
        except ServiceUnavailableError:
            log.warning("indexes of %s not created yet: mongodb unavailable", cls.COLLECTION)
        else:
            state.indexed.add(key)


def _links(query: ListQuery, page: Page) -> list[tuple[str, str]]:
    if page.next_cursor is None and not query.offset:
        return []
    params = {k: v for k, v in request.args.items(multi=True) if k not in ("$offset", "$after")}
    # the parameters every link repeats are encoded once; each link appends its own
    common = f"{request.base_url}?{urlencode(params)}{'&' if params else ''}"
    links: list[tuple[str, str]] = []
    if page.next_cursor is not None:
        if query.after is not None or not query.offset:
            links.append(("next", common + urlencode({"$after": page.next_cursor})))
        else:
            links.append(("next", common + urlencode({"$offset": query.offset + query.limit})))
    if query.offset:
        links.append(("prev", common + urlencode({"$offset": max(0, query.offset - query.limit)})))
    return links


def _args() -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in request.args.to_dict(flat=False).items()}


def _collection_verbs(
    blp: Blueprint, cls: type[ResourceView], out: type[ma.Schema], spec: QuerySpec, name: str,
    ops: frozenset[str],
) -> dict[str, Callable[..., Any]]:  # fmt: skip
    verbs: dict[str, Callable[..., Any]] = {}
    if "list" in ops:

        @blp.doc(parameters=query_parameters(spec), description=_LIST_HELP)
        @blp.response(200, list_response_schema(out, name))
        @_operation(cls, 400, 503)
        def get(self: ResourceView) -> Response:
            query = parse_list_query(_args(), self._query_spec)
            return self._list_response(query, self.list_items(query))

        verbs["get"] = get
    if "create" in ops:
        create_schema = cls.CREATE_SCHEMA or cls.SCHEMA

        @blp.arguments(create_schema)
        @blp.response(201, out)
        @_operation(cls, 400, 409, 503)
        def post(self: ResourceView, data: dict[str, Any]) -> Response:
            return self._item_response(self.create_item(data), 201)

        verbs["post"] = post
    return verbs


def _search_verb(
    blp: Blueprint, cls: type[ResourceView], out: type[ma.Schema], name: str
) -> Callable[..., Any]:
    @blp.doc(
        description="The list query language as a JSON object (same keys as the GET parameters).",
        requestBody={
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    )
    @blp.response(200, list_response_schema(out, name))
    @_operation(cls, 400, 415, 503)
    def post(self: ResourceView) -> Response:
        body = request.get_json(silent=False) if request.content_length else {}
        if not isinstance(body, dict):
            raise BadRequestError("the search body must be a JSON object")
        query = parse_list_query(body, self._query_spec)
        return self._list_response(query, self.list_items(query))

    verb: Callable[..., Any] = post
    return verb


def _item_verbs(
    blp: Blueprint, cls: type[ResourceView], out: type[ma.Schema], name: str, ops: frozenset[str]
) -> dict[str, Callable[..., Any]]:
    verbs: dict[str, Callable[..., Any]] = {}
    update_schema = cls.UPDATE_SCHEMA or cls.SCHEMA
    if "read" in ops:

        @blp.response(200, out)
        @_operation(cls, 400, 404, 503)
        def get(self: ResourceView, item_id: str) -> Response:
            return self._item_response(self.read_item(item_id))

        verbs["get"] = get
    if "replace" in ops:

        @blp.arguments(update_schema)
        @blp.response(200, out)
        @_operation(cls, 400, 404, 409, 412, 503)
        def put(self: ResourceView, data: dict[str, Any], item_id: str) -> Response:
            return self._item_response(self.write_item(item_id, data, partial=False))

        verbs["put"] = put
    if "update" in ops:

        @blp.arguments(patch_schema(update_schema, name))
        @blp.response(200, out)
        @_operation(cls, 400, 404, 409, 412, 503)
        def patch(self: ResourceView, data: dict[str, Any], item_id: str) -> Response:
            return self._item_response(self.write_item(item_id, data, partial=True))

        verbs["patch"] = patch
    if "delete" in ops:

        @blp.response(204)
        @_operation(cls, 400, 404, 412, 503)
        def delete(self: ResourceView, item_id: str) -> Response:
            self.delete_item(item_id)
            return Response(status=204)

        verbs["delete"] = delete
    return verbs


def _operation(
    cls: type[ResourceView], *codes: int
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document an operation's error responses (all the envelope) and its security.

    Writes flask-smorest's doc attribute directly instead of stacking ``alt_response``
    wrappers, so documenting costs nothing per request.
    """
    if cls.PERMISSION is not None:
        codes = (*codes, 401, 403)
    if cls.RATE_LIMIT is not None:
        codes = (*codes, 429)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        doc = func.__dict__.setdefault("_apidoc", {})
        responses = doc.setdefault("response", {}).setdefault("responses", {})
        for code in codes:
            responses.setdefault(code, []).append(HTTPStatus(code).name)
        if cls.PERMISSION is not None:
            doc.setdefault("manual_doc", {})["security"] = TOKEN_SECURITY
        return func  # the same function: no wrapper

    return decorate


_LIST_HELP = """List documents, a page at a time.

Filters: `field=value` (text fields: literal *contains*, case-sensitive; typed fields: equals),
`field[op]=value` with op in eq, ne, gt, gte, lt, lte, in, nin (comma-separated or repeated),
contains, icontains, startswith. Only the documented fields can be filtered.
Paging: `$limit` (at most the documented maximum; more is a 400), `$offset`, or `$after`
with the `next` cursor of the previous page (constant cost however deep).
`$orderby=field desc,other asc`; `$start_date`/`$end_date` (together) over `$date_type`.
`$count=exact|estimated|none`; `$fields=a,b` projection.
Headers: `X-Total-Count`, `Link` (rel next/prev)."""
