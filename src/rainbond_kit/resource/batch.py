"""``POST <resource>/batch``: creates, merge-patch updates and deletes as one bulk write.

Switched on by ``"batch"`` in ``OPERATIONS`` (off by default). Each operation is checked as
the single request would be (see ``docs/batch.md``): the create or PATCH schema, the permission
code of its kind (create 2, update 4, delete 8; the kind must also be in ``OPERATIONS``), the
row-level scope, owner stamping, server-managed fields, soft delete, the optional expected
``version``. The ones that pass are sent in one ``bulk_write`` (``data.bulk``); the answer is
a ``207`` with one result per operation, in input order. An ordered batch (the default) stops
at its first failed operation; the rest answer 424.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import marshmallow as ma
from flask import Response, current_app
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException, UnprocessableEntity

from rainbond_kit.auth.context import current_permission
from rainbond_kit.auth.decorators import permission_required
from rainbond_kit.auth.permissions import Code, Permission
from rainbond_kit.data.bulk import (
    NOT_RUN,
    Delete,
    Insert,
    Operation,
    Update,
    read_targets,
    run_bulk,
)
from rainbond_kit.data.documents import object_id, to_public
from rainbond_kit.data.fields import CREATION_TIME, UPDATE_TIME
from rainbond_kit.data.versioned import version_of
from rainbond_kit.envelope import error_body
from rainbond_kit.errors import (
    BadRequestError,
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    http_error,
)
from rainbond_kit.idempotency import idempotent
from rainbond_kit.ratelimit import limit
from rainbond_kit.resource.batchdocs import batch_request_schema, batch_response_schema
from rainbond_kit.resource.errordocs import resource_errors
from rainbond_kit.resource.routes import json_body
from rainbond_kit.resource.transitions import changes_for, check_write
from rainbond_kit.resource.writes import merge_patch
from rainbond_kit.schemas import patch_schema

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = ["batch_members"]

#: the permission code each kind of operation needs (the kind must also be in ``OPERATIONS``)
_CODES = {"create": Code.ADD, "update": Code.EDIT, "delete": Code.DELETE}
#: operation methods a batch does not call (it writes through the hooks and the codec)
_BYPASSED = ("create_item", "update_item", "write_item", "delete_item")
_STATUS = {"create": 201, "update": 200, "delete": 204}
_META = ("id", CREATION_TIME, UPDATE_TIME)


def batch_members(
    blp: Blueprint, cls: type[ResourceView], out: type[ma.Schema], name: str, attrs: dict[str, Any]
) -> dict[str, Any]:
    """The members of the batch view: :func:`view_parts` attributes, its decorators (the
    caller is authenticated for the whole batch, permissions are checked per operation) and
    the ``post`` verb.

    :raises ConfigurationError: ``cls`` overrides an operation method a batch would bypass.
    """
    from rainbond_kit.resource.view import ResourceView

    overridden = [m for m in _BYPASSED if getattr(cls, m) is not getattr(ResourceView, m)]
    if overridden:
        raise ConfigurationError(
            f"{cls.__name__} overrides {', '.join(overridden)}, which a batch does not call; "
            "move that logic into before_insert/before_update/scope_filter or leave out 'batch'"
        )
    decorators: list[Callable[..., Any]] = [idempotent, *cls.decorators]
    if cls.RATE_LIMIT is not None:
        decorators.append(limit(cls.RATE_LIMIT, scope=f"resource:{cls.COLLECTION}"))
    if cls.PERMISSION is not None:
        decorators.append(permission_required(*cls.PERMISSION, codes=()))

    schemas = (
        (cls.CREATE_SCHEMA or cls.SCHEMA)(),
        patch_schema(cls.UPDATE_SCHEMA or cls.SCHEMA, name),
    )

    @json_body
    @blp.arguments(batch_request_schema(cls, name))
    @blp.response(207, batch_response_schema(out, name))
    @resource_errors(cls, 400, 409, 413, 415, 422, 503)
    def post(self: ResourceView, body: dict[str, Any]) -> Response:
        results = run_batch(self, body["operations"], ordered=body["ordered"], schemas=schemas)
        failed = sum(1 for r in results if "error" in r)
        payload = {
            "ordered": body["ordered"],
            "succeeded": len(results) - failed,
            "failed": failed,
            "results": results,
        }
        response = current_app.response_class(
            current_app.json.dumps(payload, ensure_ascii=False), mimetype="application/json"
        )
        response.status_code = 207
        return response

    return {**attrs, "decorators": decorators, "post": post}


class _Plan:
    """A batch's operations, checked one by one, in input order."""

    def __init__(self, view: ResourceView, count: int) -> None:
        self.view = view
        self.results: list[dict[str, Any] | None] = [None] * count
        self.ops: list[tuple[int, Operation]] = []
        self.seen: set[str] = set()
        self.granted: Permission | None = None
        if view.PERMISSION is not None:
            self.granted = current_permission(*view.PERMISSION)

    def fail(self, index: int, error: HTTPException, item_id: str | None = None) -> None:
        self.results[index] = {"status": error.code, "id": item_id, "error": error_body(error)}

    def allowed(self, kind: str) -> None:
        code = _CODES[kind]
        if kind not in self.view.OPERATIONS:
            raise http_error(405, f"this resource does not serve {kind} operations")
        if self.granted is not None and not self.granted.allows(code):
            center, permission = self.view.PERMISSION or ("", "")
            raise ForbiddenError(
                f"no '{center}/{permission}' permission for this request",
                extra={"required_codes": [int(code)]},
            )


def _schema_errors(schema: ma.Schema, data: Any) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data if isinstance(data, Mapping) else {})
    except ma.ValidationError as exc:
        error = UnprocessableEntity()
        error.data = {"messages": {"json": exc.messages}}  # type: ignore[attr-defined]  # as webargs sets it on a single write's error
        raise error from None
    return loaded


def run_batch(
    view: ResourceView,
    operations: list[dict[str, Any]],
    *,
    ordered: bool,
    schemas: tuple[ma.Schema, ma.Schema],
) -> list[dict[str, Any]]:
    """Check every operation, run the valid ones as one bulk write; one result each, in order.

    :param schemas: the create and PATCH schemas of the single writes.
    """
    plan = _Plan(view, len(operations))
    scope = view.scope_filter()
    named = [o.get("id") for o in operations if o["op"] != "create"]
    ids = sorted({i for i in named if isinstance(i, str) and len(i) == 24 and _hex(i)})
    current = read_targets(view.repository, ids, scope)
    create_schema, update_schema = schemas
    for index, operation in enumerate(operations):
        item_id = operation.get("id")
        try:
            plan.allowed(operation["op"])
            op = _check(view, plan, operation, current, scope, create_schema, update_schema)
        except HTTPException as exc:
            plan.fail(index, exc, item_id)
            if ordered:
                break
            continue
        if op is None:  # an update that changes nothing: answered without a write
            doc = current[str(item_id)]
            plan.results[index] = {"status": 200, "id": item_id, "version": version_of(doc)}
        else:
            plan.ops.append((index, op))
    outcomes = run_bulk(view.repository, [op for _, op in plan.ops], ordered=ordered)
    for (index, op), outcome in zip(plan.ops, outcomes, strict=True):
        if outcome.error is not None:
            plan.fail(index, outcome.error, outcome.id)
            continue
        kind = (
            "create" if isinstance(op, Insert) else "update" if isinstance(op, Update) else "delete"
        )
        result: dict[str, Any] = {"status": _STATUS[kind], "id": outcome.id}
        if kind == "create" and outcome.doc is not None:
            result["item"] = view._codec.public(to_public(outcome.doc), _META)
            result["version"] = 0
        elif kind == "update":
            result["version"] = outcome.version
        plan.results[index] = result
    not_run = error_body(http_error(424, NOT_RUN))
    return [
        r if r is not None else {"status": 424, "id": operations[i].get("id"), "error": not_run}
        for i, r in enumerate(plan.results)
    ]


def _hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _check(
    view: ResourceView,
    plan: _Plan,
    operation: Mapping[str, Any],
    current: Mapping[str, dict[str, Any]],
    scope: Mapping[str, Any] | None,
    create_schema: ma.Schema,
    update_schema: ma.Schema,
) -> Operation | None:
    kind = operation["op"]
    if kind == "create":
        return Insert(view._new_document(_schema_errors(create_schema, operation.get("data"))))
    item_id = operation.get("id")
    if not isinstance(item_id, str):
        raise BadRequestError("update and delete operations need the document's id")
    key = str(object_id(item_id))
    if key in plan.seen:
        raise BadRequestError("an earlier operation of this batch names the same document")
    plan.seen.add(key)
    doc = current.get(key)
    if doc is None:
        raise NotFoundError(f"no document with id {item_id}")
    version = version_of(doc)
    expected = operation.get("version")
    if expected is not None and expected != version:
        raise PreconditionFailedError("the document changed since it was read (ETag)")
    if kind == "delete":
        return Delete(key, version, scope)
    data = _schema_errors(update_schema, operation.get("data"))
    public = to_public(doc)  # what PUT/PATCH hooks get as ``current``
    patch = merge_patch(
        view._codec, changes_for(view, data, partial=True, item_id=key, current=public)
    )
    check_write(view, public, patch.sets, patch.unsets)  # TRANSITIONS (409)
    not_objects = patch.not_objects(doc)
    if not_objects:
        patch = patch.setting_whole(not_objects)
    sets, unsets = view._writable(patch.sets, patch.unsets)
    if not sets and not unsets:
        return None
    return Update(key, version, sets, frozenset(unsets), scope, patch.conditions() or None)
