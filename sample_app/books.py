"""The seed tutorial's ``books`` resource, the modern way."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import pymongo
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from rainbond_kit import (
    MongoRepository,
    NotFoundError,
    ResourceView,
    error_responses,
    get_container,
)
from rainbond_kit.auth import permission_required
from rainbond_kit.resource import ALL_OPERATIONS

#: The permission this component registers in the auth center (when auth is on).
CENTER_NAME, PERMISSION_NAME = "图书中心", "图书管理"
PER_DEFAULTS: list[dict[str, Any]] = [
    {"session_key": "auth_books", "center_name": CENTER_NAME, "permission_name": PERMISSION_NAME,
     "status": [0, 1, 2, 4, 8, 16]},
]  # fmt: skip


class BookSchema(ma.Schema):
    """A book: ``title`` and ``author`` are required."""

    title = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"example": "The Left Hand of Darkness"},  # Swagger UI's "Example Value"
    )
    author = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"example": "Ursula K. Le Guin"},
    )
    year = ma.fields.Integer(
        validate=ma.validate.Range(min=0, max=3000), metadata={"example": 1969}
    )
    tags = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=50)),
        validate=ma.validate.Length(max=20),
        metadata={"example": ["science fiction"]},
    )
    #: how many times the book was read: only ``POST /<id>/reads`` changes it (atomically)
    reads = ma.fields.Integer(dump_only=True)


class Books(ResourceView):
    """``/api/v1/books``: list, create, read, replace, update and (soft) delete books."""

    COLLECTION = "books"
    SCHEMA = BookSchema
    SOFT_DELETE = True
    INDEXES = (
        pymongo.IndexModel([("author", 1), ("title", 1)], name="author_title"),
        pymongo.IndexModel([("update_time", -1)], name="update_time"),
    )
    PAGE_SIZE = 10
    MAX_PAGE_SIZE = 100
    #: ``POST /api/v1/books/batch`` too (docs/batch.md)
    OPERATIONS = ALL_OPERATIONS | {"batch"}


class SecuredBooks(Books):
    """The same resource behind the auth center: a token and the method's permission code."""

    PERMISSION = (CENTER_NAME, PERMISSION_NAME)


class Reads(MethodView):
    """``POST /api/v1/books/<id>/reads``: count one read of a book, atomically (``$inc``)."""

    def post(self, item_id: str) -> Response:
        """Count one read of a book (an atomic increment of its reads)."""
        repository: MongoRepository = get_container().repository(
            collection=Books.COLLECTION, soft_delete=Books.SOFT_DELETE
        )
        if not repository.increment({"id": item_id}, {"reads": 1}).matched_count:
            raise NotFoundError(f"no document with id {item_id}")
        return Response(status=204)


def make_blueprint(*, secured: bool = False) -> Blueprint:
    """The books blueprint; ``secured`` puts it behind the auth center."""
    blueprint = Blueprint("books", __name__, url_prefix="/api/v1/books", description="Books")
    (SecuredBooks if secured else Books).register(blueprint, name="Books")
    post = blueprint.doc(operationId="countBookRead")(
        blueprint.response(204, description="Counted")(Reads.post)
    )
    attrs: dict[str, Any] = {"post": error_responses(400, 404, 503, secured=secured)(post)}
    if secured:
        attrs["decorators"] = [permission_required(CENTER_NAME, PERMISSION_NAME)]
    blueprint.route("/<item_id>/reads", endpoint="BooksReads")(type("Reads", (Reads,), attrs))
    return blueprint
