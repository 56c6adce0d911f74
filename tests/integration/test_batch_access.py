"""Issue 17: a batch is never a way around permissions or row-level rules. Several users in
different groups and roles against a ``ResourceView`` with ``PERMISSION``, ``ROW_LEVEL_FIELD``
and ``"batch"``; plus ``PUT`` with ``If-None-Match: *`` needing the create code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pymongo
import pytest
from bson import ObjectId
from flask_smorest import Blueprint

from rainbond_kit import RainbondKit, get_api
from rainbond_kit.auth import AuthSettings, init_auth
from rainbond_kit.resource import ALL_OPERATIONS
from tests.conftest import KitAppFactory
from tests.integration.auth_support import (  # noqa: F401 - fixture
    CENTER,
    PERM,
    AuthCenter,
    auth_center_fixture,
    unique_name,
)
from tests.integration.auth_support import Caller as BaseCaller
from tests.integration.contract_support import make_resource
from tests.integration.test_contract_access import ExposedSchema


class Caller(BaseCaller):
    """A user, with the requests this module sends most."""

    def batch(self, *ops: dict[str, Any]) -> list[dict[str, Any]]:
        response = self("POST", "/things/batch", json={"ordered": False, "operations": ops})
        assert response.status_code == 207, response.get_json()
        results: list[dict[str, Any]] = response.get_json()["results"]
        return results


@pytest.fixture
def users(
    make_kit_app: KitAppFactory,
    rainbond_env: dict[str, str],
    auth_center: AuthCenter,
    mongo_db_name: str,
) -> Iterator[dict[str, Caller]]:
    app = make_kit_app(rainbond_env)
    init_auth(app, AuthSettings.from_env(auth_center.env))
    resource = make_resource(
        ExposedSchema,
        collection="things",
        PERMISSION=(CENTER, PERM),
        ROW_LEVEL_FIELD="creator",
        OPERATIONS=ALL_OPERATIONS | {"batch"},
    )
    blueprint = Blueprint("things", __name__, url_prefix="/things")
    resource.register(blueprint, name="Things")
    get_api(app).register_blueprint(blueprint)
    roles = {
        "viewer": ([1], False),
        "adder": ([1, 2], True),
        "editor": ([1, 4], True),
        "own": ([1, 2, 4, 8], False),
        "all": ([1, 2, 4, 8], True),
    }
    for role, (codes, all_data) in roles.items():
        auth_center.add_role(f"{role}-{mongo_db_name}", codes, all_data=all_data)
    people = {
        "alice": ("own", ["ga"]),
        "bob": ("own", ["ga"]),
        "carol": ("all", ["ga"]),
        "dave": ("all", ["gb"]),
        "vera": ("viewer", ["ga"]),
        "adam": ("adder", ["ga"]),
        "eddie": ("editor", ["ga"]),
    }
    callers = {}
    for person, (role, groups) in people.items():
        uid = auth_center.add_user([f"{role}-{mongo_db_name}"], groups)
        name = f"{person}-{unique_name()}"
        callers[person] = Caller(name, auth_center.login(uid, name), app.test_client())
    yield callers
    RainbondKit.shutdown(app)


@pytest.fixture
def stored(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str
) -> pymongo.collection.Collection[dict[str, Any]]:
    return mongo_client[mongo_db_name]["things"]


def _create(caller: Caller, title: str) -> str:
    response = caller("POST", "/things", json={"title": title})
    assert response.status_code == 201, response.get_json()
    item_id: str = response.get_json()["id"]
    return item_id


def test_each_operation_needs_the_code_of_its_kind(
    users: dict[str, Caller], stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """adam (view + add) creates but cannot update or delete; eddie (view + edit) updates but
    cannot create or delete; vera (view) does nothing; carol (all codes) does all three."""
    target, doomed = _create(users["carol"], "target"), _create(users["carol"], "doomed")
    ops = (
        {"op": "create", "data": {"title": "new"}},
        {"op": "update", "id": target, "data": {"year": 1}},
        {"op": "delete", "id": doomed},
    )
    adam = users["adam"].batch(*ops)
    assert [r["status"] for r in adam] == [201, 403, 403]
    assert adam[1]["error"]["required_codes"] == [4]
    assert adam[2]["error"]["required_codes"] == [8]
    assert adam[1]["error"]["message"] == f"no '{CENTER}/{PERM}' permission for this request"
    assert [r["status"] for r in users["eddie"].batch(*ops)] == [403, 200, 403]
    assert [r["status"] for r in users["vera"].batch(*ops)] == [403, 403, 403]
    assert stored.find_one({"_id": ObjectId(target)})["year"] == 1
    assert [r["status"] for r in users["carol"].batch(*ops)] == [201, 200, 204]
    assert stored.count_documents({"title": "new"}) == 2  # adam's and carol's
    assert stored.find_one({"_id": ObjectId(doomed)})["remove_time"] is not None


def test_rows_of_others_are_untouchable_inside_a_batch(
    users: dict[str, Caller], stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """bob (own rows) and dave (all data of another group) get 404 for alice's document,
    exactly as on single writes, and nothing changes; carol (all data of alice's group) may."""
    mine = _create(users["alice"], "alice's")
    before = stored.find_one({"_id": ObjectId(mine)})
    for intruder in ("bob", "dave"):
        results = users[intruder].batch(
            {"op": "update", "id": mine, "data": {"title": "x"}},
            {"op": "delete", "id": mine, "version": 0},
        )
        assert [r["status"] for r in results] == [404, 400], intruder
        assert results[0]["error"]["message"] == f"no document with id {mine}"
        single = users[intruder]("PATCH", f"/things/{mine}", json={"title": "x"})
        assert single.status_code == 404
        alone = users[intruder].batch({"op": "delete", "id": mine})
        assert [r["status"] for r in alone] == [404]
    assert stored.find_one({"_id": ObjectId(mine)}) == before
    assert [r["status"] for r in users["carol"].batch({"op": "delete", "id": mine})] == [204]


def test_owner_and_group_fields_are_stamped_not_taken_from_the_batch(
    users: dict[str, Caller], stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """A create claiming another creator and group is stamped with the caller's; an update
    trying to move a document to another group or owner leaves those fields as they were."""
    alice = users["alice"]
    stamped = {"creator": alice.name, "group_list": ["ga"]}
    created = alice.batch(
        {"op": "create", "data": {"title": "t", "creator": "mallory", "group_list": ["gb"]}}
    )
    assert created[0]["status"] == 201
    item_id = created[0]["id"]
    doc = stored.find_one({"_id": ObjectId(item_id)})
    assert {k: doc[k] for k in stamped} == stamped
    updated = alice.batch(
        {"op": "update", "id": item_id, "data": {"creator": "mallory", "group_list": ["gb"]}}
    )
    assert updated[0]["status"] == 200
    doc = stored.find_one({"_id": ObjectId(item_id)})
    assert {k: doc[k] for k in stamped} == stamped
    assert users["dave"]("GET", f"/things/{item_id}").status_code == 404


def test_a_batch_without_a_token_is_refused_whole(
    users: dict[str, Caller], stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """No token: 401 for the batch, nothing written."""
    client = users["alice"].client
    response = client.post(
        "/things/batch", json={"operations": [{"op": "create", "data": {"title": "t"}}]}
    )
    assert response.status_code == 401
    assert stored.count_documents({}) == 0


def test_put_if_none_match_needs_the_create_code(
    users: dict[str, Caller], stored: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """eddie (edit, no add) cannot create through ``PUT`` + ``If-None-Match: *``; carol can,
    and the new document carries her as owner."""
    new_id = str(ObjectId())
    headers = {"If-None-Match": "*"}
    refused = users["eddie"]("PUT", f"/things/{new_id}", json={"title": "t"}, headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["required_codes"] == [2]
    assert stored.count_documents({}) == 0
    carol = users["carol"]
    made = carol("PUT", f"/things/{new_id}", json={"title": "t"}, headers=headers)
    assert made.status_code == 201, made.get_json()
    assert stored.find_one({"_id": ObjectId(new_id)})["creator"] == carol.name
