"""Issue 12, access over every channel: several users in different groups and roles against a
``ResourceView`` with ``PERMISSION`` and ``ROW_LEVEL_FIELD``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from bson import ObjectId
from flask_smorest import Blueprint

from rainbond_kit import RainbondKit, get_api
from rainbond_kit.auth import AuthSettings, init_auth
from tests.conftest import KitAppFactory
from tests.integration.auth_support import (  # noqa: F401 - fixture
    CENTER,
    PERM,
    AuthCenter,
    Caller,
    auth_center_fixture,
    unique_name,
)
from tests.integration.contract_support import make_resource


class TitleSchema(ma.Schema):
    title = ma.fields.String(required=True)
    year = ma.fields.Integer()


class ExposedSchema(TitleSchema):
    """A schema that (unwisely) exposes the owner and group fields."""

    creator = ma.fields.String()
    group_list = ma.fields.List(ma.fields.String())


ALL_CODES = [1, 2, 4, 8]


@dataclass
class World:
    users: dict[str, Caller]
    stored: pymongo.collection.Collection[dict[str, Any]]
    exposed: pymongo.collection.Collection[dict[str, Any]]


@pytest.fixture
def world(
    make_kit_app: KitAppFactory,
    rainbond_env: dict[str, str],
    auth_center: AuthCenter,
    mongo_client: pymongo.MongoClient[dict[str, Any]],
    mongo_db_name: str,
) -> Iterator[World]:
    app = make_kit_app(rainbond_env)
    init_auth(app, AuthSettings.from_env(auth_center.env))
    for prefix, schema in (("/things", TitleSchema), ("/exposed", ExposedSchema)):
        resource = make_resource(
            schema,
            collection=prefix.strip("/"),
            PERMISSION=(CENTER, PERM),
            ROW_LEVEL_FIELD="creator",
            SOFT_DELETE=True,
        )
        blueprint = Blueprint(prefix.strip("/"), __name__, url_prefix=prefix)
        resource.register(blueprint, name=prefix.strip("/").title())
        get_api(app).register_blueprint(blueprint)
    roles = {
        "viewer": ([1], False),
        "adder": ([2], False),
        "own": (ALL_CODES, False),
        "all": (ALL_CODES, True),
    }
    for role, (codes, all_data) in roles.items():
        auth_center.add_role(f"{role}-{mongo_db_name}", codes, all_data=all_data)
    people = {  # name: (role, groups)
        "alice": ("own", ["ga"]),
        "bob": ("own", ["ga"]),
        "carol": ("all", ["ga"]),
        "dave": ("all", ["gb"]),
        "vera": ("viewer", ["ga"]),
        "adam": ("adder", ["ga"]),
    }
    users = {}
    for person, (role, groups) in people.items():
        uid = auth_center.add_user([f"{role}-{mongo_db_name}"], groups)
        name = f"{person}-{unique_name()}"
        users[person] = Caller(name, auth_center.login(uid, name), app.test_client())
    db = mongo_client[mongo_db_name]
    yield World(users, db["things"], db["exposed"])
    RainbondKit.shutdown(app)


def _create(caller: Caller, title: str, url: str = "/things", **extra: Any) -> dict[str, Any]:
    response = caller("POST", url, json={"title": title, "year": 2000, **extra})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _visible(caller: Caller, url: str = "/things") -> dict[str, set[str] | int | None]:
    """What ``caller`` can learn about the collection through every read channel."""
    listed = caller("GET", url, query_string={"$limit": 100})
    assert listed.status_code == 200, listed.get_json()
    fields = caller("GET", url, query_string={"$fields": "title", "$limit": 100})
    search = caller("POST", f"{url}/search", json={"$limit": 100})
    assert search.status_code == 200, search.get_json()
    walked: set[str] = set()
    query: dict[str, Any] = {"$limit": 1}
    for _ in range(50):
        page = caller("GET", url, query_string=query).get_json()
        walked |= {i["id"] for i in page["items"]}
        if page["next"] is None:
            break
        query = {"$limit": 1, "$after": page["next"]}
    estimated = caller("GET", url, query_string={"$count": "estimated"})
    return {
        "list": {i["id"] for i in listed.get_json()["items"]},
        "fields": {i["id"] for i in fields.get_json()["items"]},
        "search": {i["id"] for i in search.get_json()["items"]},
        "after": walked,
        "total": listed.get_json()["total"],
        "header": int(listed.headers["X-Total-Count"]),
        "search_total": search.get_json()["total"],
        "estimated": estimated.get_json()["total"],
    }


def _sees_exactly(caller: Caller, ids: set[str], url: str = "/things") -> None:
    seen = _visible(caller, url)
    ids_only = {k: v for k, v in seen.items() if isinstance(v, set)}
    assert ids_only == dict.fromkeys(("list", "fields", "search", "after"), ids), caller.name
    counts = {k: v for k, v in seen.items() if not isinstance(v, set)}
    assert counts == dict.fromkeys(("total", "header", "search_total", "estimated"), len(ids))
    for item_id in ids:
        assert caller("GET", f"{url}/{item_id}").status_code == 200


def test_search_needs_the_view_code_not_the_add_code(world: World) -> None:
    vera, adam = world.users["vera"], world.users["adam"]
    assert vera("POST", "/things/search", json={}).status_code == 200
    refused = adam("POST", "/things/search", json={})
    assert refused.status_code == 403
    assert refused.get_json()["required_codes"] == [1]


def test_non_admin_sees_what_they_create_on_every_channel(world: World) -> None:
    alice = world.users["alice"]
    created = _create(alice, "alice's")
    _sees_exactly(alice, {created["id"]})
    stored = world.stored.find_one({"_id": ObjectId(created["id"])})
    assert stored is not None
    assert (stored.get("creator"), stored.get("group_list")) == (alice.name, ["ga"])


def test_all_data_users_get_an_owner_and_their_group_too(world: World) -> None:
    dave = world.users["dave"]
    created = _create(dave, "dave's")
    stored = world.stored.find_one({"_id": ObjectId(created["id"])})
    assert stored is not None
    assert (stored.get("creator"), stored.get("group_list")) == (dave.name, ["gb"])
    _sees_exactly(dave, {created["id"]})


def test_rows_of_others_are_invisible_and_untouchable_on_every_channel(world: World) -> None:
    users = world.users
    mine = _create(users["alice"], "alice's")
    bobs = _create(users["bob"], "bob's")
    daves = _create(users["dave"], "dave's")
    _sees_exactly(users["alice"], {mine["id"]})
    _sees_exactly(users["bob"], {bobs["id"]})
    _sees_exactly(users["carol"], {mine["id"], bobs["id"]})  # all data of group ga
    _sees_exactly(users["dave"], {daves["id"]})
    before = list(world.stored.find({}, sort=[("_id", 1)]))
    for intruder, target in (("alice", daves), ("alice", bobs), ("carol", daves), ("dave", mine)):
        caller, item = users[intruder], f"/things/{target['id']}"
        assert caller("GET", item).status_code == 404, intruder
        assert caller("PATCH", item, json={"title": "x"}).status_code == 404, intruder
        assert caller("PUT", item, json={"title": "x"}).status_code == 404, intruder
        assert caller("DELETE", item).status_code == 404, intruder
        found = caller("GET", "/things", query_string={"title": target["title"]}).get_json()
        assert (found["items"], found["total"]) == ([], 0), intruder
    assert list(world.stored.find({}, sort=[("_id", 1)])) == before


def test_callers_cannot_write_the_owner_or_group_fields(world: World) -> None:
    alice = world.users["alice"]
    response = alice("POST", "/exposed", json={"title": "t", "creator": "x", "group_list": ["gb"]})
    assert response.status_code in (201, 422), response.get_json()
    if response.status_code == 201:
        item_id = response.get_json()["id"]
    else:
        item_id = _create(alice, "t", "/exposed")["id"]
    stamped = {"creator": alice.name, "group_list": ["ga"]}
    for verb, body in (
        ("PATCH", {"group_list": ["gb"]}),
        ("PATCH", {"creator": world.users["dave"].name}),
        ("PUT", {"title": "t", "creator": "x", "group_list": ["gb"]}),
    ):
        answer = alice(verb, f"/exposed/{item_id}", json=body)
        assert answer.status_code in (200, 422), (verb, body, answer.get_json())
        stored = world.exposed.find_one({"_id": ObjectId(item_id)})
        assert stored is not None
        assert {k: stored.get(k) for k in stamped} == stamped, (verb, body)
    assert alice("GET", f"/exposed/{item_id}").status_code == 200
    assert world.users["dave"]("GET", f"/exposed/{item_id}").status_code == 404


def test_forged_cursor_cannot_cross_rows(world: World) -> None:
    """A cursor taken by one user and replayed by another reveals nothing of the first's rows."""
    alice, bob = world.users["alice"], world.users["bob"]
    for n in range(3):
        _create(alice, f"a{n}")
    page = alice("GET", "/things", query_string={"$limit": 1}).get_json()
    replay = bob("GET", "/things", query_string={"$limit": 1, "$after": page["next"]})
    assert replay.status_code in (200, 400)
    if replay.status_code == 200:
        assert replay.get_json()["items"] == []
