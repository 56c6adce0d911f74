"""ResourceView options: ETag/If-Match, unique indexes (409), hooks, disabled operations, OpenAPI."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from dependency_injector.wiring import Provide, inject
from flask import Flask, request
from flask.testing import FlaskClient
from flask_smorest import Blueprint
from openapi_spec_validator import validate
from pymongo.database import Database

from rainbond_kit import Container, RainbondKit, Settings, get_api
from rainbond_kit.data.epoch import to_millis
from rainbond_kit.resource import ResourceView


class UserSchema(ma.Schema):
    email = ma.fields.Email(required=True)
    name = ma.fields.String(required=True)
    secret = ma.fields.String(load_only=True)


class Users(ResourceView):
    COLLECTION = "users"
    SCHEMA = UserSchema
    SOFT_DELETE = False
    ETAG = True
    INDEXES = (pymongo.IndexModel([("email", 1)], unique=True, name="email_unique"),)
    OPERATIONS = frozenset({"list", "create", "read", "replace", "update", "delete"})

    def scope_filter(self) -> Mapping[str, Any] | None:
        tenant = request.headers.get("X-Tenant")
        return {"tenant": tenant} if tenant else None

    @inject
    def before_insert(
        self, doc: dict[str, Any], db: Database[dict[str, Any]] = Provide[Container.mongo_db]
    ) -> dict[str, Any]:
        doc["name"] = doc["name"].strip().title()
        doc["seq"] = db["counters"].find_one_and_update(
            {"_id": "users"}, {"$inc": {"n": 1}}, upsert=True, return_document=True
        )["n"]
        return doc


class Notes(ResourceView):
    COLLECTION = "notes"
    SCHEMA = UserSchema
    OPERATIONS = frozenset({"list", "read"})


@pytest.fixture
def app(rainbond_settings: Settings) -> Iterator[Flask]:
    app = Flask("options")
    app.config["TESTING"] = True
    RainbondKit(app, settings=rainbond_settings, wire=[sys.modules[__name__]])
    blp = Blueprint("users", __name__, url_prefix="/users")
    Users.register(blp)
    notes = Blueprint("notes", __name__, url_prefix="/notes")
    Notes.register(notes)
    get_api(app).register_blueprint(blp)
    get_api(app).register_blueprint(notes)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_unique_index_created_and_duplicate_is_409(client: FlaskClient, app: Flask) -> None:
    """Declared indexes exist after the first request; a duplicate email is a 409 envelope."""
    from rainbond_kit import get_container

    assert client.get("/users").status_code == 200
    names = {i["name"] for i in get_container(app).mongo_db()["users"].list_indexes()}
    assert "email_unique" in names
    assert client.post("/users", json={"email": "a@x.io", "name": "a"}).status_code == 201
    dup = client.post("/users", json={"email": "a@x.io", "name": "b"})
    assert dup.status_code == 409
    body = dup.get_json()
    assert body["message"] == "a document with the same email exists"
    assert body["errors"] == {"email": ["already exists"]}
    assert body["duplicate"] == {"email": "a@x.io"}  # email is in the output schema
    assert "E11000" not in dup.get_data(as_text=True)


def test_hooks_and_injection(client: FlaskClient) -> None:
    """before_insert runs with an injected database; load_only fields are never returned."""
    first = client.post(
        "/users", json={"email": "b@x.io", "name": " bob ", "secret": "s"}
    ).get_json()
    second = client.post("/users", json={"email": "c@x.io", "name": "cy"}).get_json()
    assert first["name"] == "Bob"
    assert "secret" not in first
    assert "seq" not in first  # not in the schema: never leaves the server
    assert client.get(f"/users/{second['id']}").get_json()["name"] == "Cy"


def test_etag_if_match(client: FlaskClient) -> None:
    """Item reads carry an ETag; a stale If-Match is 412, the current one writes."""
    user = client.post("/users", json={"email": "d@x.io", "name": "d"})
    etag = user.headers["ETag"]
    uid = user.get_json()["id"]
    assert client.get(f"/users/{uid}").headers["ETag"] == etag
    ok = client.patch(f"/users/{uid}", json={"name": "e"}, headers={"If-Match": etag})
    assert ok.status_code == 200
    stale = client.patch(f"/users/{uid}", json={"name": "f"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert client.delete(f"/users/{uid}", headers={"If-Match": etag}).status_code == 412
    assert client.delete(f"/users/{uid}", headers={"If-Match": '"nonsense"'}).status_code == 412
    assert (
        client.delete(f"/users/{uid}", headers={"If-Match": ok.headers["ETag"]}).status_code == 204
    )
    assert client.get(f"/users/{uid}").status_code == 404  # hard delete


def test_scope_filter_isolates_rows(client: FlaskClient) -> None:
    """A scope filter from the request limits reads and stamps inserts."""
    mine = client.post(
        "/users", json={"email": "t@x.io", "name": "t"}, headers={"X-Tenant": "acme"}
    )
    assert mine.status_code == 201
    other = client.post(
        "/users", json={"email": "u@x.io", "name": "u"}, headers={"X-Tenant": "umbrella"}
    )
    uid = other.get_json()["id"]
    assert client.get(f"/users/{uid}", headers={"X-Tenant": "acme"}).status_code == 404
    listing = client.get("/users", headers={"X-Tenant": "acme"}).get_json()
    assert [u["email"] for u in listing["items"]] == ["t@x.io"]


def test_disabled_operations_are_405_or_absent(client: FlaskClient) -> None:
    """Operations not in OPERATIONS are not served and not documented."""
    assert client.post("/notes", json={"email": "a@x.io", "name": "n"}).status_code == 405
    assert client.delete(f"/notes/{'0' * 24}").status_code == 405
    spec = client.get("/openapi.json").get_json()
    assert set(spec["paths"]["/notes"]) == {"get"}
    assert "/notes/search" not in spec["paths"]


def test_openapi_document_is_valid_and_complete(client: FlaskClient) -> None:
    """The spec validates; every operation documents its errors with the envelope schema."""
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    users = spec["paths"]["/users"]
    assert set(users) == {"get", "post"}
    names = {p["name"] for p in users["get"]["parameters"]}
    assert {
        "$limit",
        "$offset",
        "$orderby",
        "$after",
        "$count",
        "$fields",
        "email",
        "name",
        "id",
    } <= names
    assert "secret" not in names  # load_only: never filterable
    limit = next(p for p in users["get"]["parameters"] if p["name"] == "$limit")
    assert limit["schema"]["maximum"] == 100
    item = spec["paths"]["/users/{item_id}"]
    assert set(item) >= {"get", "put", "patch", "delete"}
    for path in spec["paths"].values():
        for op in (v for k, v in path.items() if k != "parameters"):
            assert "400" in op["responses"] or "422" in op["responses"]
            assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}
    envelope = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]["application/json"][
        "schema"
    ]
    assert envelope == {"$ref": "#/components/schemas/Envelope"}
    out = spec["components"]["schemas"]["UsersItem"]["properties"]
    assert out["secret"]["writeOnly"] is True  # accepted, never returned
    assert out["id"]["readOnly"] is True


def test_if_match_on_a_document_inserted_outside_the_resource(
    client: FlaskClient, app: Flask
) -> None:
    """A document inserted behind the resource (no version yet) has ETag ``"0"``; a write with
    it succeeds and moves the version; its ``update_time`` (far in the future) never moves back.

    The ETag was ``update_time`` in milliseconds before issue 12; it is now the write version.
    """
    from rainbond_kit import get_container

    moment = datetime(2243, 1, 1, 0, 0, 0, 1000, tzinfo=timezone.utc)
    users = get_container(app).mongo_db()["users"]
    uid = users.insert_one(
        {"email": "far@x.io", "name": "far", "creation_time": moment, "update_time": moment}
    ).inserted_id
    etag = client.get(f"/users/{uid}").headers["ETag"]
    assert etag == '"0"'
    response = client.patch(f"/users/{uid}", json={"name": "near"}, headers={"If-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["name"] == "near"
    assert response.headers["ETag"] == '"1"'
    assert response.get_json()["update_time"] == to_millis(moment)
    # a value past any version names no current ETag: 412, not a 500
    huge = client.patch(f"/users/{uid}", json={"name": "x"}, headers={"If-Match": f'"{"9" * 31}"'})
    assert huge.status_code == 412
