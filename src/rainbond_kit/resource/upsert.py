"""``PUT <resource>/<id>`` with ``If-None-Match: *``: create at a client-chosen id if absent.

RFC 9110 13.1.2: ``*`` matches any current representation, so the write happens only when
there is none. The body is the PUT body (the replace schema), and it must satisfy the create
schema too (``CREATE_SCHEMA`` or ``SCHEMA``, read-only members ignored) when that differs from
the update schema: a 422 naming the members it misses, never a document ``POST`` would refuse.
The document is built as a ``POST`` builds it (owner and tenant fields stamped, ``before_insert``) and inserted at the
id; 201 with ``Location``. An id taken by any document, soft-deleted ones included, is a 412:
a PUT never overwrites through this header. With ``PERMISSION`` the caller needs the create
code (2) besides PUT's edit code (4). Without ``create`` in ``OPERATIONS`` nothing is created:
412 when the id is taken within the caller's scope, else 404 (another user's id reads as an
unused one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import marshmallow as ma
from flask import request

from rainbond_kit.auth.context import current_permission
from rainbond_kit.auth.permissions import Code
from rainbond_kit.body import read_json
from rainbond_kit.data.bulk import insert_absent
from rainbond_kit.data.documents import object_id
from rainbond_kit.data.fields import STORED_ID
from rainbond_kit.errors import ForbiddenError, NotFoundError, PreconditionFailedError, http_error
from rainbond_kit.schemas import replace_schema

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = ["create_at", "creates_if_absent"]


def creates_if_absent() -> bool:
    """Whether this PUT carries ``If-None-Match: *`` (write only if there is no document)."""
    return request.headers.get("If-None-Match", "").strip() == "*"


def create_at(view: ResourceView, item_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Insert the PUT body as a new document with id ``item_id``; its response form.

    :raises PreconditionFailedError: a document has this id.
    :raises ForbiddenError: the caller lacks the create code.
    :raises NotFoundError: the resource does not serve ``create`` and there is no document.
    """
    key = object_id(item_id)
    if "create" not in view.OPERATIONS:  # the precondition still holds: never replace
        # only the caller's rows count: another's id must not read differently from an unused one
        scope = view.scope_filter()
        mine = {"$and": [{STORED_ID: key}, dict(scope)]} if scope else {STORED_ID: key}
        if view.repository.exists(mine, include_deleted=True):
            raise PreconditionFailedError("a document with this id exists")
        raise NotFoundError(f"no document with id {item_id}")
    if view.PERMISSION is not None and not current_permission(*view.PERMISSION).allows(Code.ADD):
        center, permission = view.PERMISSION
        raise ForbiddenError(
            f"no '{center}/{permission}' permission for this request",
            extra={"required_codes": [int(Code.ADD)]},
        )
    doc = view._new_document(_as_created(view, data))
    doc[STORED_ID] = key
    return view._public(insert_absent(view.repository, doc))


def _as_created(view: ResourceView, data: dict[str, Any]) -> dict[str, Any]:
    """The PUT body loaded by the create schema when it is not the update schema.

    :raises HTTPError: 422 with the create schema's field errors (as a ``POST`` would say).
    """
    create = view.CREATE_SCHEMA or view.SCHEMA
    if create is (view.UPDATE_SCHEMA or view.SCHEMA):
        return data  # the PUT schema already was the create schema
    schema = replace_schema(create, f"{create.__name__}Create")()
    try:
        loaded: dict[str, Any] = schema.load(read_json(force=True))
    except ma.ValidationError as exc:
        raise http_error(422, errors={"json": exc.messages}) from None
    return loaded
