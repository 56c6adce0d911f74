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
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import marshmallow as ma
import pymongo
from flask import Response, current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from rainbond_kit.auth.context import current_row_filter, current_row_owner
from rainbond_kit.body import ARGUMENTS_PARSER
from rainbond_kit.data.documents import object_id
from rainbond_kit.data.epoch import from_millis
from rainbond_kit.data.fields import UPDATE_TIME
from rainbond_kit.data.repository import MongoRepository, Page
from rainbond_kit.errors import NotFoundError, PreconditionFailedError
from rainbond_kit.extension_state import get_container
from rainbond_kit.query import ListQuery, QuerySpec
from rainbond_kit.resource.listing import fetch_page, list_body, list_headers
from rainbond_kit.resource.openapi import document_operations
from rainbond_kit.resource.routes import (
    access_decorators,
    add_view,
    collection_verbs,
    item_verbs,
    register_hooks,
    search_verb,
    view_parts,
)

__all__ = ["ALL_OPERATIONS", "ResourceView"]

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
    #: singular name in summaries and operationIds (default: the resource name minus its "s")
    ITEM_NAME: ClassVar[str | None] = None
    #: OpenAPI overrides per operation, e.g. ``{"list": {"summary": "..."}}``; see ``resource.openapi``
    DOCS: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    _query_spec: ClassVar[QuerySpec]
    _output_fields: ClassVar[tuple[str, ...]]
    _item_endpoint: ClassVar[str]
    _list_endpoint: ClassVar[str | None]

    # --- hooks ------------------------------------------------------------------------------

    def scope_filter(self) -> Mapping[str, Any] | None:
        """A server-side filter ANDed into every read and write (row-level access).

        Default: the auth center's row filter when ``ROW_LEVEL_FIELD`` is set, else none.
        """
        if self.PERMISSION is not None and self.ROW_LEVEL_FIELD is not None:
            return current_row_filter(*self.PERMISSION, user_field_name=self.ROW_LEVEL_FIELD)
        return None

    def owner_fields(self) -> Mapping[str, Any]:
        """Server-owned fields: stamped on every created document, never written by a caller.

        Default with ``ROW_LEVEL_FIELD``: that field = the caller's user name and
        ``group_list`` = their groups (also for ``is_all_data`` users and administrators).
        A client's values for these fields are ignored on POST, PUT and PATCH, and PUT keeps
        the stored ones.
        """
        if self.PERMISSION is not None and self.ROW_LEVEL_FIELD is not None:
            return current_row_owner(user_field_name=self.ROW_LEVEL_FIELD)
        return {}

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
        return fetch_page(
            self.repository, query, scope=self.scope_filter(), projection=self._output_fields
        )

    def create_item(self, data: dict[str, Any]) -> dict[str, Any]:
        owner = self.owner_fields()
        doc = self.before_insert({k: v for k, v in data.items() if k not in owner})
        doc.update(owner)
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
        owner = self.owner_fields()
        changes = self.before_update(
            {k: v for k, v in data.items() if k not in owner}, partial=partial
        )
        current = self._read(item_id)  # 404 (or scope refusal) before writing
        if not partial:  # a replacement keeps the stored owner fields
            changes.update({k: current[k] for k in owner if k in current})
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
        linked = page.last_sort_values is not None or query.offset  # else no Link to build
        url = None
        if linked and self._list_endpoint is not None:
            url = url_for(self._list_endpoint, _external=True)
        body, headers = list_body(query, page), list_headers(query, page, url)
        return self._json(body, headers=headers)

    # --- registration -----------------------------------------------------------------------

    @classmethod
    def register(cls, blp: Blueprint, url: str = "/", *, name: str | None = None) -> None:
        """Add this resource's routes to ``blp``: ``url`` and ``url/<item_id>``."""
        name = name or cls.__name__
        # the generated writes read their bodies through the kit's one JSON loader
        blp.ARGUMENTS_PARSER = ARGUMENTS_PARSER
        out, spec, attrs = view_parts(cls, blp, name)
        base = url.rstrip("/")
        ops = cls.OPERATIONS
        collection_verbs_ = collection_verbs(blp, cls, out, name, ops)
        item_verbs_ = item_verbs(blp, cls, out, name, ops)
        search_verbs = {"post": search_verb(blp, cls, out, name)} if "search" in ops else {}
        document_operations(
            cls, name, spec, _by_operation(collection_verbs_, item_verbs_, search_verbs)
        )
        root = base if blp.url_prefix else base or "/"
        if collection_verbs_:
            add_view(blp, cls, f"{name}Collection", root, {**attrs, **collection_verbs_})
        if search_verbs:
            search = {
                **attrs,
                "decorators": [*cls.decorators, *access_decorators(cls, read=True)],
                **search_verbs,
            }
            add_view(blp, cls, f"{name}Search", f"{base}/search", search)
        if item_verbs_:
            add_view(blp, cls, f"{name}Item", f"{base}/<item_id>", {**attrs, **item_verbs_})
        register_hooks(blp, cls)


def _by_operation(
    collection: Mapping[str, Any], item: Mapping[str, Any], search: Mapping[str, Any]
) -> dict[str, Any]:
    """The generated verbs by operation name (``list``, ``create``, ``read``, ...)."""
    names = (
        (collection, {"get": "list", "post": "create"}),
        (item, {"get": "read", "put": "replace", "patch": "update", "delete": "delete"}),
        (search, {"post": "search"}),
    )
    return {
        op: verbs[method] for verbs, ops in names for method, op in ops.items() if method in verbs
    }
