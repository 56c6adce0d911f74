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
``create_item``, ...), switch one off with ``OPERATIONS``. ``POST /batch`` (``"batch"`` added to
``OPERATIONS``) is ``resource.batch``; ``PUT`` with ``If-None-Match: *`` is ``resource.upsert``. Actions:
:mod:`.actions`; status rules: :mod:`.transitions`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import marshmallow as ma
import pymongo
from flask import Response, current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from rainbond_kit.auth.context import current_row_filter, current_row_owner
from rainbond_kit.body import ARGUMENTS_PARSER
from rainbond_kit.data.counting import CountMode
from rainbond_kit.data.documents import object_id
from rainbond_kit.data.fields import CREATION_TIME, REMOVE_TIME, UPDATE_TIME, VERSION
from rainbond_kit.data.repository import MongoRepository, Page
from rainbond_kit.data.versioned import version_of
from rainbond_kit.errors import NotFoundError
from rainbond_kit.extension_state import get_container
from rainbond_kit.idempotency import idempotent
from rainbond_kit.query import ListQuery, QuerySpec
from rainbond_kit.resource.actions import register_actions
from rainbond_kit.resource.batch import batch_members
from rainbond_kit.resource.codec import Codec
from rainbond_kit.resource.decimals import exact_dumps
from rainbond_kit.resource.etags import if_match_version, none_match
from rainbond_kit.resource.listing import fetch_page, list_body, list_headers
from rainbond_kit.resource.openapi import document_operations
from rainbond_kit.resource.options import check_options
from rainbond_kit.resource.references import (
    Reference,
    check_references,
    expand_references,
    with_references,
)
from rainbond_kit.resource.routes import (
    access_decorators,
    add_view,
    collection_verbs,
    item_verbs,
    register_hooks,
    search_verb,
    view_parts,
)
from rainbond_kit.resource.sharding import shard_filter
from rainbond_kit.resource.transitions import CurrentDocumentMixin, check_write, update_hook
from rainbond_kit.resource.writes import merge_patch, replace_patch

__all__ = ["ALL_OPERATIONS", "OPTIONAL_OPERATIONS", "ResourceView"]

ALL_OPERATIONS = frozenset({"list", "search", "create", "read", "replace", "update", "delete"})
#: operations served only when named in ``OPERATIONS`` (``POST /batch``: ``docs/batch.md``)
OPTIONAL_OPERATIONS = frozenset({"batch"})
#: members of a response outside the schema, passed through
_META = ("id", CREATION_TIME, UPDATE_TIME)
#: stored fields no client write touches
_SERVER_MANAGED = frozenset({"id", "_id", CREATION_TIME, UPDATE_TIME, REMOVE_TIME, VERSION})


class ResourceView(CurrentDocumentMixin, MethodView):
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
    #: indexes built in the background (``rainbond_kit.indexing``; see also ``unique_live``)
    INDEXES: ClassVar[Sequence[pymongo.IndexModel]] = ()
    #: sort only by fields an index starts with; shard key in write filters (docs/scaling.md)
    INDEXED_SORTS_ONLY: ClassVar[bool] = False
    SHARD_KEY: ClassVar[Sequence[str]] = ()
    #: default and maximum ``$limit``; over the maximum is a 400
    PAGE_SIZE: ClassVar[int] = 10
    MAX_PAGE_SIZE: ClassVar[int] = 100
    #: ``$count`` when a list sends none (``exact``, ``estimated``, ``bounded``, ``none``), the
    #: bound of ``bounded`` counts, the largest ``$offset`` (see ``rainbond_kit.data.counting``)
    COUNT_MODE: ClassVar[CountMode] = "exact"
    COUNT_LIMIT: ClassVar[int] = 1000
    MAX_OFFSET: ClassVar[int] = 10000
    #: ``ETag`` on item reads and ``If-Match`` on writes (412 on mismatch)
    ETAG: ClassVar[bool] = False
    #: operations served; remove one to switch it off, add ``"batch"`` for ``POST /batch``
    OPERATIONS: ClassVar[frozenset[str]] = ALL_OPERATIONS
    #: most operations in one ``POST /batch`` (each changes at most one document); over: 413
    MAX_BATCH: ClassVar[int] = 1000
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
    #: fields holding ids of other resources' documents, e.g. ``{"customer_id": Customers,
    #: "items.product_id": Products}``: checked on write, ``$expand``-able on read (see
    #: ``rainbond_kit.resource.references``)
    REFERENCES: ClassVar[Mapping[str, type[ResourceView]]] = {}

    _query_spec: ClassVar[QuerySpec]
    _output_fields: ClassVar[tuple[str, ...]]
    _item_endpoint: ClassVar[str]
    _codec: ClassVar[Codec]
    _list_endpoint: ClassVar[str | None]
    _references: ClassVar[tuple[Reference, ...]] = ()

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
        """Transform validated changes before a PUT (``partial=False``) or PATCH; an override
        may also take ``item_id`` and ``current`` (see :func:`.transitions.update_hook`)."""
        return changes

    # --- services ---------------------------------------------------------------------------

    @property
    def repository(self) -> MongoRepository:
        """The repository of this resource's collection (from the app's container)."""
        repository: MongoRepository = get_container().repository(
            collection=self.COLLECTION,
            soft_delete=self.SOFT_DELETE,
            indexes=self.INDEXES,
            readable=getattr(self, "_output_fields", ()),  # values a 409 may show
            names=self._codec.names if hasattr(self, "_codec") else None,
        )
        return repository

    def check_references(self, data: Mapping[str, Any]) -> None:
        """422 naming a ``REFERENCES`` field of ``data`` whose id is not live in scope."""
        check_references(self, data)

    def aggregate(self, pipeline: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Run ``pipeline`` over this resource's live documents inside the caller's scope
        (see :meth:`MongoRepository.aggregate`)."""
        return self.repository.aggregate(pipeline, scope=self.scope_filter())

    # --- operations (override to customise) -------------------------------------------------

    def list_items(self, query: ListQuery) -> Page:
        return fetch_page(
            self.repository, query, scope=self.scope_filter(), projection=self._output_fields
        )

    def search_items(self, query: ListQuery) -> Page:
        """``POST /search``: the same query as a JSON body (default: :meth:`list_items`)."""
        return self.list_items(query)

    def create_item(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._public(self.repository.insert_one(self._new_document(data)))

    def read_item(self, item_id: str) -> dict[str, Any]:
        return self._public(self._read(item_id))

    def replace_item(self, item_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """``PUT``: replace the client-owned fields (see :mod:`rainbond_kit.resource.writes`)."""
        return self.write_item(item_id, data, partial=False)

    def update_item(self, item_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """``PATCH``: JSON Merge Patch (RFC 7396), applied atomically."""
        return self.write_item(item_id, data, partial=True)

    def write_item(self, item_id: str, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        changes, current, version = update_hook(self, item_id, data, partial=partial)
        patch = (merge_patch if partial else replace_patch)(self._codec, changes)
        check_write(self, current, patch.sets, patch.unsets)
        doc = self._write(item_id, patch.sets, patch.unsets, patch.conditions(), version)
        not_objects = patch.not_objects(doc)
        if not_objects:  # nothing merged: members to merge into are not stored as objects
            whole = patch.setting_whole(not_objects)
            doc = self._write(
                item_id, whole.sets, whole.unsets, whole.conditions(), version_of(doc)
            )
        return self._public(doc)

    def _write(
        self,
        item_id: str,
        sets: dict[str, Any],
        unsets: set[str],
        conditions: dict[str, Any] | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        """One conditional update; server-managed and scope-stamped fields are never written."""
        return self.repository.write_by_id(
            item_id,
            *self._writable(sets, unsets),
            scope=self.scope_filter(),
            expected_version=self._if_match() if version is None else version,
            conditions=conditions,
            shard_key=shard_filter(self, item_id),
        )

    def delete_item(self, item_id: str) -> None:
        scope, version, key = self.scope_filter(), self._if_match(), shard_filter(self, item_id)
        self.repository.delete_by_id(item_id, scope=scope, expected_version=version, shard_key=key)

    # --- internals --------------------------------------------------------------------------

    def _new_document(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A validated create body -> the stored document (owner and tenant fields stamped);
        its references checked (422)."""
        owner = self.owner_fields()
        self.check_references(data)
        doc = self._codec.store(
            self.before_insert({k: v for k, v in data.items() if k not in owner})
        )
        doc.update(owner)
        doc.update(self._stamped())  # tenant: plain equality conditions of the scope
        return doc

    def _writable(self, sets: dict[str, Any], unsets: set[str]) -> tuple[dict[str, Any], set[str]]:
        """``sets``/``unsets`` without server-managed and scope-stamped fields."""
        kept = {*self._stamped(), *self.owner_fields(), *_SERVER_MANAGED}
        return (
            {k: v for k, v in sets.items() if k.split(".", 1)[0] not in kept},
            {k for k in unsets if k.split(".", 1)[0] not in kept},
        )

    def _stamped(self) -> dict[str, Any]:
        scope = self.scope_filter() or {}
        return {
            k: v for k, v in scope.items() if not k.startswith("$") and not isinstance(v, Mapping)
        }

    def _read(self, item_id: str) -> dict[str, Any]:
        scope = self.scope_filter()
        if scope:
            doc = self.repository.find_one({"$and": [{"_id": object_id(item_id)}, dict(scope)]})
            if doc is None:
                raise NotFoundError(f"no document with id {item_id}")
            return doc
        return self.repository.get(item_id)

    def _public(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """A stored document (repository form) -> the documented response, with its version
        under ``_version`` for the ETag (removed by :meth:`_item_response`)."""
        public = self._codec.public(doc, _META)
        public[VERSION] = version_of(doc)
        return public

    def _if_match(self) -> int | None:
        """The version ``If-Match`` names when the resource uses ETags (see ``etags``)."""
        return if_match_version() if self.ETAG else None

    def _json(
        self, body: Any, status: int = 200, headers: Mapping[str, str] | None = None, *,
        decimals: bool = False,
    ) -> Response:  # fmt: skip
        def dumps(value: Any) -> str:
            return current_app.json.dumps(value, ensure_ascii=False)

        exact = decimals or self._codec.decimals or self._references  # (expanded documents)
        text = exact_dumps(dumps, body) if exact else dumps(body)
        response = current_app.response_class(text, mimetype="application/json")
        response.status_code = status
        response.headers.update(headers or {})
        return response

    def _item_response(
        self, doc: Mapping[str, Any], status: int = 200, *, conditional: bool = False
    ) -> Response:
        body = {k: v for k, v in doc.items() if k != VERSION}
        headers: dict[str, str] = {}
        if self.ETAG and isinstance(doc.get(VERSION), int):
            headers["ETag"] = f'"{doc[VERSION]}"'
            if conditional and none_match(headers["ETag"]):
                return Response(status=304, headers=headers)
        if status == 201:
            headers["Location"] = url_for(self._item_endpoint, item_id=doc["id"])
        return self._json(body, status, headers)

    def _list_response(self, query: ListQuery, page: Page) -> Response:
        if not self._codec.identity:
            page = dataclasses.replace(
                page, items=[self._codec.public(d, _META) for d in page.items]
            )
        if query.expand:
            expand_references(self, page.items, query.expand)
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
        check_options(cls, ALL_OPERATIONS | OPTIONAL_OPERATIONS)
        # the generated writes read their bodies through the kit's one JSON loader
        blp.ARGUMENTS_PARSER = ARGUMENTS_PARSER
        out, spec, attrs = with_references(cls, view_parts(cls, blp, name))
        attrs["decorators"] = [idempotent, *attrs["decorators"]]  # POST/PATCH Idempotency-Key
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
        if "batch" in ops:
            batch = batch_members(blp, cls, out, name, attrs)
            document_operations(cls, name, spec, {"batch": batch["post"]})
            add_view(blp, cls, f"{name}Batch", f"{base}/batch", batch)
        if item_verbs_:
            add_view(blp, cls, f"{name}Item", f"{base}/<item_id>", {**attrs, **item_verbs_})
        register_actions(blp, cls, name, base, attrs, out)
        register_hooks(blp, cls, spec)


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
