"""Issue 12, write semantics and concurrency control: PUT keeps server-managed fields, PATCH is
JSON Merge Patch (RFC 7396), writes need ``Content-Type: application/json`` (415), a no-op write
keeps the version, ETags are strong versions that cannot collide, ``If-None-Match`` is a 304."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from bson import ObjectId
from flask import request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from rainbond_kit import RainbondKit, Settings
from tests.integration.auth_support import run_together
from tests.integration.contract_support import JSON, make_resource, serve


class MetaSchema(ma.Schema):
    a = ma.fields.String(required=True)
    b = ma.fields.Integer()


class NoteSchema(ma.Schema):
    title = ma.fields.String(required=True)
    meta = ma.fields.Nested(MetaSchema)
    note = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String())
    reads = ma.fields.Integer(dump_only=True)


def _tenant_scope(self: Any) -> Mapping[str, Any] | None:
    tenant = request.headers.get("X-Tenant")
    return {"tenant": tenant} if tenant else None


NOTES = "/things"
TENANT = {"X-Tenant": "t1"}


@pytest.fixture
def collection_name() -> str:
    return "notes_contract"


@pytest.fixture
def client(rainbond_settings: Settings, collection_name: str) -> Iterator[FlaskClient]:
    resource = make_resource(
        NoteSchema, collection=collection_name, ETAG=True, scope_filter=_tenant_scope
    )
    app = serve(rainbond_settings, resource)
    yield app.test_client()
    RainbondKit.shutdown(app)


@pytest.fixture
def stored(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str, collection_name: str
) -> pymongo.collection.Collection[dict[str, Any]]:
    return mongo_client[mongo_db_name][collection_name]


def _create(client: FlaskClient, body: dict[str, Any] | None = None) -> TestResponse:
    doc = body or {"title": "t", "meta": {"a": "x", "b": 1}, "note": "n", "tags": ["k"]}
    response = client.post(NOTES, json=doc, headers=TENANT)
    assert response.status_code == 201, response.get_json()
    return response


def test_put_keeps_server_managed_fields_and_the_scope(
    client: FlaskClient, stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """dump_only counter, creation_time and the tenant stamped from the scope survive a PUT."""
    created = _create(client).get_json()
    stored.update_one({"_id": ObjectId(created["id"])}, {"$inc": {"reads": 3}})
    put = client.put(f"{NOTES}/{created['id']}", json={"title": "new"}, headers=TENANT)
    assert put.status_code == 200, put.get_json()
    body = put.get_json()
    assert body["reads"] == 3
    assert body["creation_time"] == created["creation_time"]
    assert {k: body[k] for k in ("title", "id")} == {"title": "new", "id": created["id"]}
    assert set(body) == {"id", "title", "reads", "creation_time", "update_time"}
    again = client.get(f"{NOTES}/{created['id']}", headers=TENANT)
    assert again.status_code == 200
    assert stored.find_one({"_id": ObjectId(created["id"])})["tenant"] == "t1"  # type: ignore[index]


def test_patch_is_json_merge_patch(client: FlaskClient) -> None:
    """Nested objects merge, ``null`` removes a member (RFC 7396)."""
    created = _create(client).get_json()
    patch = client.patch(
        f"{NOTES}/{created['id']}", json={"meta": {"b": 2}, "note": None}, headers=TENANT
    )
    assert patch.status_code == 200, patch.get_json()
    body = patch.get_json()
    assert body["meta"] == {"a": "x", "b": 2}
    assert "note" not in body
    assert body["tags"] == ["k"]
    assert client.get(f"{NOTES}/{created['id']}", headers=TENANT).get_json() == body


def test_patch_that_would_break_the_schema_changes_nothing(client: FlaskClient) -> None:
    """Removing a required member (``title: null``, ``meta.a: null``) is a 422; nothing moves."""
    response = _create(client)
    created, etag = response.get_json(), response.headers["ETag"]
    for bad in ({"title": None}, {"meta": {"a": None}}):
        patch = client.patch(f"{NOTES}/{created['id']}", json=bad, headers=TENANT)
        assert patch.status_code == 422, (bad, patch.get_json())
    again = client.get(f"{NOTES}/{created['id']}", headers=TENANT)
    assert again.get_json() == created
    assert again.headers["ETag"] == etag


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_write_without_json_content_type_is_415(
    client: FlaskClient, method: str, content_type: str | None
) -> None:
    response = _create(client)
    created, etag = response.get_json(), response.headers["ETag"]
    url = NOTES if method == "POST" else f"{NOTES}/{created['id']}"
    headers = {**TENANT, **({"Content-Type": content_type} if content_type else {})}
    answer = client.open(url, method=method, data=json.dumps({"title": "z"}), headers=headers)
    assert answer.status_code == 415, (method, content_type, answer.get_json())
    assert answer.get_json()["code"] == 415
    again = client.get(f"{NOTES}/{created['id']}", headers=TENANT)
    assert again.get_json() == created
    assert again.headers["ETag"] == etag
    assert client.get(NOTES, headers=TENANT).get_json()["total"] == 1


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_no_op_write_keeps_etag_and_update_time(client: FlaskClient, method: str) -> None:
    response = _create(client)
    created, etag = response.get_json(), response.headers["ETag"]
    body = {k: v for k, v in created.items() if k in ("title", "meta", "note", "tags")}
    write = client.open(f"{NOTES}/{created['id']}", method=method, json=body, headers=TENANT)
    assert write.status_code == 200, write.get_json()
    assert write.headers["ETag"] == etag
    assert write.get_json() == created
    empty = client.patch(f"{NOTES}/{created['id']}", json={}, headers=TENANT)
    assert empty.status_code == 200
    assert empty.headers["ETag"] == etag
    assert empty.get_json()["update_time"] == created["update_time"]


def test_concurrent_patches_with_the_same_if_match(client: FlaskClient) -> None:
    """Two PATCHes released together with the same If-Match: exactly one 200 and one 412,
    round after round (no retries)."""
    item = f"{NOTES}/{_create(client).get_json()['id']}"
    etag = client.get(item, headers=TENANT).headers["ETag"]
    for round_ in range(12):
        answers: dict[str, TestResponse] = {}

        def patch(
            who: str, tag: str = etag, n: int = round_, out: dict[str, TestResponse] = answers
        ) -> None:
            out[who] = client.application.test_client().patch(
                item, json={"note": f"{who}{n}"}, headers={**TENANT, "If-Match": tag}
            )

        run_together(lambda: patch("a"), lambda: patch("b"))
        codes = sorted(a.status_code for a in answers.values())
        assert codes == [200, 412], (round_, codes)
        winner = next(a for a in answers.values() if a.status_code == 200)
        assert winner.headers["ETag"] != etag
        etag = winner.headers["ETag"]


def test_stale_if_match_loses_even_when_a_clock_repeats_a_millisecond(
    client: FlaskClient, stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """A replica whose clock repeats ``update_time`` must not revive a stale ETag."""
    response = _create(client)
    created, first = response.get_json(), response.headers["ETag"]
    item = f"{NOTES}/{created['id']}"
    ok = client.patch(item, json={"note": "a"}, headers={**TENANT, "If-Match": first})
    assert ok.status_code == 200
    written = stored.find_one({"_id": ObjectId(created["id"])})
    assert written is not None
    stored.update_one(  # what a slow clock writes: the previous millisecond again
        {"_id": ObjectId(created["id"])},
        {"$set": {"update_time": written["creation_time"]}},
    )
    stale = client.patch(item, json={"note": "b"}, headers={**TENANT, "If-Match": first})
    assert stale.status_code == 412, stale.get_json()
    assert client.get(item, headers=TENANT).get_json()["note"] == "a"


def test_update_time_never_goes_backwards(
    client: FlaskClient, stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    created = _create(client).get_json()
    ahead = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    stored.update_one({"_id": ObjectId(created["id"])}, {"$set": {"update_time": ahead}})
    ahead_ms = int(ahead.timestamp() * 1000)
    patch = client.patch(f"{NOTES}/{created['id']}", json={"note": "later"}, headers=TENANT)
    assert patch.status_code == 200
    assert patch.get_json()["update_time"] >= ahead_ms


def test_weak_etag_is_refused_in_if_match(client: FlaskClient) -> None:
    response = _create(client)
    created, etag = response.get_json(), response.headers["ETag"]
    item = f"{NOTES}/{created['id']}"
    for verb in ("PATCH", "PUT", "DELETE"):
        answer = client.open(
            item,
            method=verb,
            json={"title": "w"} if verb != "DELETE" else None,
            headers={**TENANT, "If-Match": f"W/{etag}"},
        )
        assert answer.status_code == 412, (verb, answer.get_json())
    assert client.get(item, headers=TENANT).get_json() == created


def test_if_none_match_is_304_on_get(client: FlaskClient) -> None:
    response = _create(client)
    item = f"{NOTES}/{response.get_json()['id']}"
    etag = client.get(item, headers=TENANT).headers["ETag"]
    cached = client.get(item, headers={**TENANT, "If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.get_data() == b""
    assert cached.headers["ETag"] == etag
    changed = client.get(item, headers={**TENANT, "If-None-Match": '"other"'})
    assert changed.status_code == 200


def test_json_content_type_with_charset_is_accepted(client: FlaskClient) -> None:
    """The 415 rule must not refuse ``application/json; charset=utf-8``."""
    answer = client.post(
        NOTES,
        data=json.dumps({"title": "c"}),
        headers={**TENANT, "Content-Type": f"{JSON}; charset=utf-8"},
    )
    assert answer.status_code == 201


def test_patch_of_a_nested_member_that_is_not_stored_as_an_object(
    client: FlaskClient, stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """RFC 7396 applies a nested patch to ``{}`` when the stored member is absent or null: the
    member is set whole (422 naming a required member it would lack), never half-merged."""
    created = _create(client, {"title": "t", "note": "n"}).get_json()
    item = f"{NOTES}/{created['id']}"
    partial = client.patch(item, json={"meta": {"b": 2}}, headers=TENANT)
    assert partial.status_code == 422, partial.get_json()
    assert "meta.a" in partial.get_json()["message"]
    assert client.get(item, headers=TENANT).get_json() == created
    stored.update_one({"_id": ObjectId(created["id"])}, {"$set": {"meta": None}})
    whole = client.patch(item, json={"meta": {"a": "q", "b": None}}, headers=TENANT)
    assert whole.status_code == 200, whole.get_json()
    assert whole.get_json()["meta"] == {"a": "q"}
    merged = client.patch(item, json={"meta": {"b": 5}}, headers=TENANT)
    assert merged.get_json()["meta"] == {"a": "q", "b": 5}


def test_merge_patch_content_type_is_accepted(client: FlaskClient) -> None:
    created = _create(client).get_json()
    answer = client.patch(
        f"{NOTES}/{created['id']}",
        data=json.dumps({"note": "m"}),
        headers={**TENANT, "Content-Type": "application/merge-patch+json"},
    )
    assert answer.status_code == 200
    assert answer.get_json()["note"] == "m"
