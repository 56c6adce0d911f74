"""The typed request and response bodies of ``POST <resource>/batch`` (validation and OpenAPI).

The request's shape is checked as a whole (a malformed batch is one 422); each operation's
``data`` is then checked per operation with the resource's create or PATCH schema, so one bad
item fails alone. Over ``MAX_BATCH`` operations is a 413 before any item is looked at.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import marshmallow as ma

from rainbond_kit.envelope import EnvelopeSchema
from rainbond_kit.errors import http_error
from rainbond_kit.i18n import DocText

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = ["BatchOperationSchema", "batch_request_schema", "batch_response_schema"]


class BatchOperationSchema(ma.Schema):
    """One operation of a batch."""

    op = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["create", "update", "delete"]),
        metadata={"description": DocText("`create`, `update` (JSON Merge Patch) or `delete`")},
    )
    id = ma.fields.String(
        metadata={
            "description": DocText("the document's id (update, delete)"),
            "example": "5f1d7c3e9b1e8a0012345678",
        }
    )
    data = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={
            "description": DocText(
                "create: the document (the create body); update: the merge patch (the PATCH body)"
            ),
            "example": {"title": "三体"},
        },
    )
    version = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(min=0, max=2**62),
        metadata={"description": DocText("update, delete: only if the document is at this "
                                         "version (its ETag), else 412 for this operation")},
    )  # fmt: skip


def batch_request_schema(cls: type[ResourceView], name: str) -> type[ma.Schema]:
    """``{"ordered": bool, "operations": [...]}`` with at most ``cls.MAX_BATCH`` operations."""
    cap = cls.MAX_BATCH

    class Batch(ma.Schema):
        ordered = ma.fields.Boolean(
            load_default=True,
            metadata={
                "description": DocText("stop at the first failed operation (the rest answer 424)")
            },
        )
        operations = ma.fields.List(
            ma.fields.Nested(BatchOperationSchema),
            required=True,
            validate=ma.validate.Length(max=cap),
            metadata={
                "description": DocText("at most {cap} operations, run in this order", cap=cap)
            },
        )

        @ma.pre_load
        def _cap(self, data: Any, **_: Any) -> Any:
            operations = data.get("operations") if isinstance(data, dict) else None
            if isinstance(operations, list) and len(operations) > cap:
                raise http_error(413, f"a batch holds at most {cap} operations")
            return data

    return type(f"{name}BatchSchema", (Batch,), {})


@functools.cache
def batch_response_schema(out: type[ma.Schema], name: str) -> type[ma.Schema]:
    """``{"ordered", "succeeded", "failed", "results": [{status, id, version, item, error}]}``."""
    item = type(
        f"{name}BatchResultSchema",
        (ma.Schema,),
        {
            "status": ma.fields.Integer(
                required=True,
                metadata={
                    "description": DocText(
                        "this operation's HTTP status (201, 200, 204 or an error)"
                    )
                },
            ),
            "id": ma.fields.String(
                required=True,
                allow_none=True,
                metadata={"description": DocText("the document's id")},
            ),
            "version": ma.fields.Integer(
                metadata={
                    "description": DocText("the document's version after the write (its ETag)")
                }
            ),
            "item": ma.fields.Nested(
                out, metadata={"description": DocText("create: the stored document")}
            ),
            "error": ma.fields.Nested(
                EnvelopeSchema,
                metadata={"description": DocText("the error envelope of a failed operation")},
            ),
        },
    )
    return type(
        f"{name}BatchResponseSchema",
        (ma.Schema,),
        {
            "ordered": ma.fields.Boolean(required=True),
            "succeeded": ma.fields.Integer(required=True),
            "failed": ma.fields.Integer(required=True),
            "results": ma.fields.List(ma.fields.Nested(item), required=True),
        },
    )
