"""The seed tutorial's ``/api/v1/demo`` endpoint, written with the compat API.

This is rainbond-python's README code with one change, the import lines
(``rainbond_python`` -> ``rainbond_kit.compat``); it reads and writes the same ``books``
collection as the modern resource in :mod:`sample_app.books`, to show both side by side.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from rainbond_kit import error_responses, get_container
from rainbond_kit.auth import TOKEN_SECURITY, permission_required
from rainbond_kit.compat.db_connect import DBConnect
from rainbond_kit.compat.parameter import Parameter
from sample_app.books import CENTER_NAME, PERMISSION_NAME

#: Only used for its documentation decorators; :func:`make_blueprint` builds the real one.
blueprint = Blueprint("demo_docs", __name__)

_BOOK = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "author": {"type": "string", "minLength": 1},
    },
    "required": ["title", "author"],
    "additionalProperties": False,
}
_ID = {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}


class DemoPageSchema(ma.Schema):
    total = ma.fields.Integer(required=True)
    items = ma.fields.List(ma.fields.Dict(), required=True)
    dummy_remove = ma.fields.Integer(required=True)


class NewIdSchema(ma.Schema):
    new_id = ma.fields.String(required=True)


class UpdateResultSchema(ma.Schema):
    matched_count = ma.fields.Integer(required=True)
    modified_count = ma.fields.Integer(required=True)


class DeleteResultSchema(ma.Schema):
    deleted_count = ma.fields.Integer(required=True)
    false_delete = ma.fields.Boolean(required=True)


def _documented(schema: type[ma.Schema]) -> Any:
    """Document the 200 body and the 400/503 envelopes of a seed-style handler."""

    def decorate(func: Any) -> Any:
        func = blueprint.alt_response(200, schema=schema, success=True)(func)
        return error_responses(400, 503)(func)

    return decorate


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _db_books() -> DBConnect:
    return DBConnect(db=get_container().mongo_db().name, collection="books")


class Demo(MethodView):
    """GET pages through books, POST creates, PUT updates, DELETE removes (seed style)."""

    @blueprint.doc(
        operationId="listDemoBooks",
        description="find_paging: $limit, $offset, $orderby, $start_date/$end_date, any field filter",
        parameters=[
            {
                "in": "query",
                "name": "$limit",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100},
            },
            {"in": "query", "name": "$offset", "schema": {"type": "integer", "minimum": 0}},
            {"in": "query", "name": "author", "schema": {"type": "string"}},
            {"in": "query", "name": "title", "schema": {"type": "string"}},
        ],
    )
    @_documented(DemoPageSchema)
    def get(self) -> Any:
        """List books, seed style (the compat API's find_paging)."""
        parameter = Parameter(request)
        return _db_books().find_paging(parameter)

    @blueprint.doc(operationId="createDemoBook", requestBody=_body(_BOOK))
    @_documented(NewIdSchema)
    def post(self) -> Any:
        """Create a book, seed style; answers its new id."""
        parameter = Parameter(request)
        param = parameter.verification(
            checking=parameter.param_json, verify={"title": str, "author": str}
        )
        new_id = _db_books().write_one_docu(docu=param)
        return {"new_id": new_id}

    @blueprint.doc(
        operationId="updateDemoBook",
        requestBody=_body(
            {
                **_BOOK,
                "properties": {**_BOOK["properties"], "id": _ID},
                "required": ["id", "title", "author"],
            }
        ),
    )
    @_documented(UpdateResultSchema)
    def put(self) -> Any:
        """Update a book's title and author by id, seed style."""
        parameter = Parameter(request)
        param = parameter.verification(
            checking=parameter.param_json, verify={"id": str, "title": str, "author": str}
        )
        return _db_books().update_docu(
            find_docu={"id": param["id"]},
            modify_docu={"title": param["title"], "author": param["author"]},
        )

    @blueprint.doc(
        operationId="deleteDemoBook",
        requestBody=_body(
            {
                "type": "object",
                "properties": {"id": _ID},
                "required": ["id"],
                "additionalProperties": False,
            }
        ),
    )
    @_documented(DeleteResultSchema)
    def delete(self) -> Any:
        """Delete a book by id, seed style (a soft delete)."""
        parameter = Parameter(request)
        param = parameter.verification(checking=parameter.param_json, verify={"id": str})
        return _db_books().delete_docu(find_docu=param)


def make_blueprint(*, secured: bool = False) -> Blueprint:
    """The demo blueprint; ``secured`` requires the books permission (by method)."""
    demo = Blueprint(
        "demo", __name__, description="The rainbond-python tutorial endpoint (compat API)"
    )
    attrs: dict[str, Any] = {}
    if secured:
        attrs["decorators"] = [permission_required(CENTER_NAME, PERMISSION_NAME)]
        attrs = {
            **attrs,
            **{
                verb: _secured_doc(getattr(Demo, verb)) for verb in ("get", "post", "put", "delete")
            },
        }
    demo.route("/api/v1/demo")(type("Demo", (Demo,), attrs))
    return demo


def _secured_doc(func: Any) -> Any:
    return blueprint.doc(security=TOKEN_SECURITY)(
        blueprint.alt_response(401, response="UNAUTHORIZED")(
            blueprint.alt_response(403, response="FORBIDDEN")(func)
        )
    )
