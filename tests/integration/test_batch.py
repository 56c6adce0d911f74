"""Issue 17: ``POST <resource>/batch`` over real MongoDB: per-operation results in input order,
validation, versions, soft delete, duplicate keys, caps, ordered and unordered batches, and
``PUT`` with ``If-None-Match: *``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from bson import ObjectId
from flask import Flask
from flask.testing import FlaskClient

from rainbond_kit import ConfigurationError, RainbondKit, Settings, wait_for_indexes
from rainbond_kit.resource import ALL_OPERATIONS
from tests.integration.contract_support import make_resource, serve


class Author(ma.Schema):
    name = ma.fields.String(required=True)
    born = ma.fields.Integer()


class Book(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    isbn = ma.fields.String()
    year = ma.fields.Integer()
    author = ma.fields.Nested(Author)


BATCH = ALL_OPERATIONS | {"batch"}
INDEXES = (pymongo.IndexModel("isbn", unique=True, sparse=True),)


@pytest.fixture
def app(rainbond_settings: Settings) -> Iterator[Flask]:
    resource = make_resource(
        Book,
        collection="books",
        OPERATIONS=BATCH,
        ETAG=True,
        MAX_BATCH=5,
        INDEXES=INDEXES,
        SOFT_DELETE=True,
    )
    app = serve(rainbond_settings, resource)
    assert wait_for_indexes(app, timeout=60)  # the unique isbn index is built in the background
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def stored(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str
) -> pymongo.collection.Collection[dict[str, Any]]:
    return mongo_client[mongo_db_name]["books"]


def _batch(client: FlaskClient, *ops: dict[str, Any], ordered: bool = True, **kw: Any) -> Any:
    return client.post("/things/batch", json={"ordered": ordered, "operations": list(ops)}, **kw)


def _create(client: FlaskClient, **doc: Any) -> dict[str, Any]:
    response = client.post("/things", json=doc)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_a_mixed_unordered_batch_answers_each_operation_in_input_order(
    client: FlaskClient, stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """create ok, create invalid (422 with the field), update ok, delete ok, update of a
    missing id (404): one 207, results in input order, only the valid ones written."""
    a = _create(client, title="A", year=1)
    b = _create(client, title="B", year=2)
    missing = str(ObjectId())
    response = _batch(
        client,
        {"op": "create", "data": {"title": "new", "year": 5}},
        {"op": "create", "data": {"title": ""}},
        {"op": "update", "id": a["id"], "data": {"year": 10, "author": {"name": "刘慈欣"}}},
        {"op": "delete", "id": b["id"]},
        {"op": "update", "id": missing, "data": {"year": 1}},
        ordered=False,
    )
    assert response.status_code == 207, response.get_json()
    body = response.get_json()
    assert [r["status"] for r in body["results"]] == [201, 422, 200, 204, 404]
    assert (body["succeeded"], body["failed"], body["ordered"]) == (3, 2, False)
    created = body["results"][0]
    assert created["item"]["title"] == "new"
    assert created["item"]["year"] == 5
    assert created["version"] == 0
    invalid = body["results"][1]["error"]
    assert invalid["code"] == 422
    assert "title" in invalid["errors"]["json"]
    assert body["results"][2] == {"status": 200, "id": a["id"], "version": 1}
    assert body["results"][4]["error"]["message"] == f"no document with id {missing}"
    assert body["results"][4]["id"] == missing
    assert stored.count_documents({"title": ""}) == 0
    assert client.get(f"/things/{a['id']}").get_json()["author"] == {"name": "刘慈欣"}
    assert client.get(f"/things/{a['id']}").headers["ETag"] == '"1"'
    assert client.get(f"/things/{b['id']}").status_code == 404  # soft-deleted: invisible
    assert stored.find_one({"_id": ObjectId(b["id"])})["remove_time"] is not None
    assert client.get(f"/things/{created['id']}").get_json()["title"] == "new"


def test_an_ordered_batch_stops_at_the_first_failure(
    client: FlaskClient, stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """Ordered (the default): the operations before the failed one are written, the failed
    one has its error, every later one answers 424 and is not written."""
    a = _create(client, title="A")
    response = _batch(
        client,
        {"op": "create", "data": {"title": "first"}},
        {"op": "update", "id": a["id"], "data": {"year": "not a number"}},
        {"op": "create", "data": {"title": "never"}},
        {"op": "delete", "id": a["id"]},
    )
    assert response.status_code == 207
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 422, 424, 424]
    assert results[1]["error"]["errors"] == {"json": {"year": ["Not a valid integer."]}}
    assert results[3]["id"] == a["id"]
    assert stored.count_documents({"title": "first"}) == 1
    assert stored.count_documents({"title": "never"}) == 0
    assert client.get(f"/things/{a['id']}").status_code == 200


def test_a_duplicate_key_fails_only_its_operation_unordered_and_stops_an_ordered_batch(
    client: FlaskClient, stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """The unique ``isbn`` index refuses the second create: 409 for it alone when unordered;
    ordered, the following create is not run (424)."""
    _create(client, title="A", isbn="111")
    unordered = _batch(
        client,
        {"op": "create", "data": {"title": "B", "isbn": "111"}},
        {"op": "create", "data": {"title": "C", "isbn": "222"}},
        ordered=False,
    ).get_json()
    assert [r["status"] for r in unordered["results"]] == [409, 201]
    duplicate = unordered["results"][0]["error"]
    assert duplicate["message"] == "a document with the same isbn exists"
    assert duplicate["errors"] == {"isbn": ["already exists"]}
    ordered = _batch(
        client,
        {"op": "create", "data": {"title": "D", "isbn": "333"}},
        {"op": "create", "data": {"title": "E", "isbn": "222"}},
        {"op": "create", "data": {"title": "F", "isbn": "444"}},
    ).get_json()
    assert [r["status"] for r in ordered["results"]] == [201, 409, 424]
    assert sorted(d["isbn"] for d in stored.find({}, {"isbn": 1})) == ["111", "222", "333"]


def test_versions_are_checked_per_operation(client: FlaskClient) -> None:
    """``version`` as read: written; a stale one: 412 and nothing written."""
    a = _create(client, title="A")
    b = _create(client, title="B")
    response = _batch(
        client,
        {"op": "update", "id": a["id"], "version": 0, "data": {"year": 1}},
        {"op": "update", "id": b["id"], "version": 7, "data": {"year": 1}},
        {"op": "delete", "id": b["id"], "version": 3},
        ordered=False,
    ).get_json()
    assert [r["status"] for r in response["results"]] == [200, 412, 400]
    assert response["results"][1]["error"]["message"] == (
        "the document changed since it was read (ETag)"
    )
    assert response["results"][2]["error"]["message"] == (
        "an earlier operation of this batch names the same document"
    )
    assert client.get(f"/things/{b['id']}").get_json().get("year") is None


def test_soft_deleted_and_malformed_ids_fail_alone(client: FlaskClient) -> None:
    """A soft-deleted document is 404 for update and delete; a malformed id is 400; an
    update without an id is 400; an update that changes nothing is 200 at the same version."""
    a = _create(client, title="A", year=3)
    gone = _create(client, title="gone")
    assert client.delete(f"/things/{gone['id']}").status_code == 204
    results = _batch(
        client,
        {"op": "update", "id": gone["id"], "data": {"year": 1}},
        {"op": "delete", "id": gone["id"]},
        {"op": "delete", "id": "not-an-id"},
        {"op": "update", "data": {"year": 1}},
        {"op": "update", "id": a["id"], "data": {"year": 3}},
        ordered=False,
    ).get_json()["results"]
    assert [r["status"] for r in results] == [404, 400, 400, 400, 200]
    assert results[1]["error"]["message"] == (
        "an earlier operation of this batch names the same document"
    )
    assert results[2]["error"]["message"] == "invalid id: expected 24 hexadecimal characters"
    assert results[3]["error"]["message"] == "update and delete operations need the document's id"
    assert results[4] == {"status": 200, "id": a["id"], "version": 0}


def test_server_managed_fields_are_never_written_by_a_batch(
    client: FlaskClient, stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """As on a single PATCH, read-only members in ``data`` (``id``, timestamps) are ignored and
    the rest applied; ``_id`` in a create is an unknown field: a 422 of its operation."""
    a = _create(client, title="A")
    before = stored.find_one({"_id": ObjectId(a["id"])})
    other = str(ObjectId())
    results = _batch(
        client,
        {"op": "update", "id": a["id"], "data": {"creation_time": 0, "id": other, "title": "x"}},
        {"op": "create", "data": {"title": "y", "_id": other}},
        ordered=False,
    ).get_json()["results"]
    assert [r["status"] for r in results] == [200, 422]
    after = stored.find_one({"_id": ObjectId(a["id"])})
    assert after["title"] == "x"
    assert after["creation_time"] == before["creation_time"]
    assert stored.count_documents({"_id": ObjectId(other)}) == 0


def test_the_batch_cap_is_a_413_and_a_malformed_batch_a_422(client: FlaskClient) -> None:
    """``MAX_BATCH`` = 5: six operations are refused whole (413); five pass (control); an
    unknown ``op`` or a non-list is a 422 of the whole batch; nothing is written."""
    six = [{"op": "create", "data": {"title": str(i)}} for i in range(6)]
    over = client.post("/things/batch", json={"operations": six})
    assert over.status_code == 413
    assert over.get_json()["message"] == "a batch holds at most 5 operations"
    five = client.post("/things/batch", json={"operations": six[:5]})
    assert five.status_code == 207
    assert [r["status"] for r in five.get_json()["results"]] == [201] * 5
    for hostile in (
        {"operations": [{"op": "drop"}]},
        {"operations": {"op": "create"}},
        {"operations": [1]},
        {"ordered": "maybe", "operations": []},
        {"operations": [{"op": "create", "data": ["not", "an", "object"]}]},
        {"operations": [{"op": "update", "id": 5}]},
        {"operations": [{"op": "update", "id": "x", "version": -1}]},
        {"operations": [{"op": "create", "$where": "1"}]},
        {},
        [],
        "operations",
    ):
        response = client.post("/things/batch", json=hostile)
        assert response.status_code == 422, (hostile, response.get_json())
        assert response.get_json()["code"] == 422
    assert client.get("/things").get_json()["total"] == 5
    text = client.post("/things/batch", data="{", content_type="application/json")
    assert text.status_code in (400, 422)
    assert "Traceback" not in text.get_data(as_text=True)
    form = client.post("/things/batch", data={"operations": "x"})
    assert form.status_code == 415


def test_batch_is_off_by_default_and_never_serves_an_operation_switched_off(
    rainbond_settings: Settings,
) -> None:
    """Without ``"batch"`` in ``OPERATIONS`` there is no route; with it but without
    ``delete``, a delete in a batch is a 405 of its own."""
    plain = serve(rainbond_settings, make_resource(Book))
    try:
        assert plain.test_client().post("/things/batch", json={"operations": []}).status_code in (
            404,
            405,
        )
    finally:
        RainbondKit.shutdown(plain)
    no_delete = serve(rainbond_settings, make_resource(Book, OPERATIONS=BATCH - {"delete"}))
    try:
        client = no_delete.test_client()
        a = _create(client, title="A")
        results = _batch(
            client, {"op": "delete", "id": a["id"]}, {"op": "update", "id": a["id"]}, ordered=False
        ).get_json()["results"]
        assert [r["status"] for r in results] == [405, 200]
        assert results[0]["error"]["message"] == "this resource does not serve delete operations"
    finally:
        RainbondKit.shutdown(no_delete)


def test_put_if_none_match_star_creates_only_when_absent(
    client: FlaskClient, stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """``PUT /<id>`` with ``If-None-Match: *``: 201 + Location at that id; again: 412 and the
    document unchanged; a soft-deleted id is taken too; without the header a missing id is 404."""
    new_id = str(ObjectId())
    headers = {"If-None-Match": "*"}
    created = client.put(f"/things/{new_id}", json={"title": "chosen"}, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["id"] == new_id
    assert created.headers["Location"].endswith(f"/things/{new_id}")
    assert created.headers["ETag"] == '"0"'
    again = client.put(f"/things/{new_id}", json={"title": "overwrite"}, headers=headers)
    assert again.status_code == 412
    assert again.get_json()["message"] == "a document with this id exists"
    assert stored.find_one({"_id": ObjectId(new_id)})["title"] == "chosen"
    assert client.delete(f"/things/{new_id}").status_code == 204
    assert client.put(f"/things/{new_id}", json={"title": "x"}, headers=headers).status_code == 412
    other = str(ObjectId())
    assert client.put(f"/things/{other}", json={"title": "x"}).status_code == 404
    assert client.put(f"/things/{other}", json={}, headers=headers).status_code == 422
    assert stored.count_documents({"_id": ObjectId(other)}) == 0


def test_a_write_between_the_batch_s_read_and_its_bulk_write_is_a_409(
    rainbond_settings: Settings,
    mongo_client: pymongo.MongoClient[dict[str, Any]],
    mongo_db_name: str,
) -> None:
    """Another writer changes a document after the batch read it (here: from the resource's
    ``before_update`` hook, deterministically): that update answers 409 and the other writer's
    value stays; an operation on an untouched document in the same batch succeeds."""
    books = mongo_client[mongo_db_name]["raced"]

    def before_update(self: Any, changes: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        if changes.get("title") == "batch":
            books.update_one({"title": "A"}, {"$set": {"title": "other"}, "$inc": {"_version": 1}})
        return changes

    resource = make_resource(
        Book, collection="raced", OPERATIONS=BATCH, before_update=before_update
    )
    app = serve(rainbond_settings, resource)
    try:
        client = app.test_client()
        a, b = _create(client, title="A"), _create(client, title="B")
        results = _batch(
            client,
            {"op": "update", "id": a["id"], "data": {"title": "batch"}},
            {"op": "update", "id": b["id"], "data": {"year": 2}},
            ordered=False,
        ).get_json()["results"]
        assert [r["status"] for r in results] == [409, 200]
        assert results[0]["error"]["message"] == (
            "the document changed while the batch ran; read it and retry"
        )
        assert results[1]["version"] == 1
        assert books.find_one({"_id": ObjectId(a["id"])})["title"] == "other"
        assert books.find_one({"_id": ObjectId(b["id"])})["year"] == 2
    finally:
        RainbondKit.shutdown(app)


def test_a_resource_overriding_an_operation_method_cannot_serve_batches(
    rainbond_settings: Settings,
) -> None:
    """A batch writes through the hooks, not ``delete_item`` & co.; a class that overrides one
    (here to forbid deletes) is refused at ``register()`` instead of being bypassed."""

    def delete_item(self: Any, item_id: str) -> None:
        raise AssertionError("never deletes")

    guarded = make_resource(Book, OPERATIONS=BATCH, delete_item=delete_item)
    with pytest.raises(ConfigurationError, match="overrides delete_item, which a batch"):
        serve(rainbond_settings, guarded)
    serve_ok = serve(rainbond_settings, make_resource(Book, delete_item=delete_item))
    RainbondKit.shutdown(serve_ok)  # control: without "batch" the override is fine


def test_an_ordered_bulk_write_error_stops_the_updates_after_it(
    client: FlaskClient, stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """Ordered, MongoDB refuses the middle create (duplicate key): the update before it is
    written and answers 200 at version 1, the update after it is not run (424)."""
    a = _create(client, title="A")
    b = _create(client, title="B")
    _create(client, title="taken", isbn="999")
    results = _batch(
        client,
        {"op": "update", "id": a["id"], "data": {"year": 1}},
        {"op": "create", "data": {"title": "dup", "isbn": "999"}},
        {"op": "update", "id": b["id"], "data": {"year": 2}},
    ).get_json()["results"]
    assert [r["status"] for r in results] == [200, 409, 424]
    assert results[0]["version"] == 1
    assert results[2]["error"]["message"] == (
        "not run: an earlier operation of this ordered batch failed"
    )
    assert stored.find_one({"_id": ObjectId(a["id"])})["year"] == 1
    assert "year" not in stored.find_one({"_id": ObjectId(b["id"])})


def test_put_if_none_match_star_never_replaces_even_without_create(
    rainbond_settings: Settings,
    mongo_client: pymongo.MongoClient[dict[str, Any]],
    mongo_db_name: str,
) -> None:
    """A resource without ``create``: ``If-None-Match: *`` on an existing id is still a 412
    (the client's precondition fails; nothing replaced), on a missing id a 404 (nothing made)."""
    app = serve(
        rainbond_settings,
        make_resource(Book, collection="nocreate", OPERATIONS=ALL_OPERATIONS - {"create"}),
    )
    try:
        client = app.test_client()
        existing = mongo_client[mongo_db_name]["nocreate"].insert_one({"title": "kept"}).inserted_id
        headers = {"If-None-Match": "*"}
        taken = client.put(f"/things/{existing}", json={"title": "x"}, headers=headers)
        assert taken.status_code == 412
        assert client.get(f"/things/{existing}").get_json()["title"] == "kept"
        missing = str(ObjectId())
        assert (
            client.put(f"/things/{missing}", json={"title": "x"}, headers=headers).status_code
            == 404
        )
        assert mongo_client[mongo_db_name]["nocreate"].count_documents({}) == 1
        assert client.put(f"/things/{existing}", json={"title": "y"}).status_code == 200  # control
    finally:
        RainbondKit.shutdown(app)
