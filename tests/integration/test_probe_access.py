"""Access rules probed channel by channel: several users in different groups and roles against
resources with ``PERMISSION`` and ``ROW_LEVEL_FIELD``; each test names the channel it probes and
what a rule forbids there (reading, counting, inferring or modifying others' rows)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from bson import ObjectId
from flask.testing import FlaskClient
from flask_smorest import Blueprint

from rainbond_kit import FileResource, RainbondKit, ResourceView, get_api, wait_for_indexes
from rainbond_kit.auth import AuthSettings, init_auth
from rainbond_kit.auth.permissions import Code
from rainbond_kit.resource import ALL_OPERATIONS
from rainbond_kit.resource.actions import action
from tests.conftest import KitAppFactory
from tests.integration._filestore_support import multipart
from tests.integration.auth_support import (  # noqa: F401 - fixture
    CENTER,
    PERM,
    AuthCenter,
    auth_center_fixture,
    unique_name,
)

Collection = pymongo.collection.Collection[dict[str, Any]]


class GroupSchema(ma.Schema):
    group_list = ma.fields.List(ma.fields.String())


class GroupFiles(FileResource):
    """Files whose metadata (unwisely) lets a client send ``group_list``."""

    BUCKET = "groupfiles"
    METADATA_SCHEMA = GroupSchema
    PERMISSION = (CENTER, PERM)
    ROW_LEVEL_FIELD = "uploader"


class PlainFiles(FileResource):
    """Files under row-level rules without any metadata schema."""

    BUCKET = "plainfiles"
    PERMISSION = (CENTER, PERM)
    ROW_LEVEL_FIELD = "uploader"


class ThingSchema(ma.Schema):
    title = ma.fields.String(required=True)
    year = ma.fields.Integer()
    #: write-only: never returned, so never filtered, sorted, projected or echoed
    secret = ma.fields.String(load_only=True)


class Things(ResourceView):
    COLLECTION = "things"
    SCHEMA = ThingSchema
    PERMISSION = (CENTER, PERM)
    ROW_LEVEL_FIELD = "creator"
    ETAG = True
    OPERATIONS = ALL_OPERATIONS | {"batch"}
    INDEXES = (pymongo.IndexModel([("secret", 1)], unique=True, sparse=True, name="unique_secret"),)

    @action("stamp", method="POST", code=Code.EDIT)
    def stamp(self, doc: dict[str, Any], data: None) -> dict[str, Any]:
        """Set the year to 1."""
        return self.write_current(doc, {"year": 1})


class Kept(ResourceView):
    """Row-level documents that clients may replace but never create."""

    COLLECTION = "kept"
    SCHEMA = ThingSchema
    PERMISSION = (CENTER, PERM)
    ROW_LEVEL_FIELD = "creator"
    OPERATIONS = ALL_OPERATIONS - {"create"}


@dataclass
class Caller:
    name: str
    token: str
    client: FlaskClient

    def __call__(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"token": self.token, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def upload(self, url: str, content: bytes, fields: tuple[tuple[str, str], ...] = ()) -> Any:
        body, content_type = multipart(content, fields=fields)
        return self("POST", url, data=body, content_type=content_type)


@dataclass
class World:
    users: dict[str, Caller]
    db: pymongo.database.Database[dict[str, Any]]


ROLES = {  # role: (codes, is_all_data)
    "own": ([1, 2, 4, 8, 16], False),
    "all": ([1, 2, 4, 8, 16], True),
    "viewer": ([1], True),
}
PEOPLE = {  # person: (role, groups)
    "alice": ("own", ["ga"]),
    "bob": ("own", ["ga"]),
    "carol": ("all", ["ga"]),
    "dave": ("all", ["gb"]),
    "vera": ("viewer", ["ga"]),
}


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
    resources: tuple[tuple[type[ResourceView], str], ...] = (
        (GroupFiles, "/gfiles"), (PlainFiles, "/pfiles"), (Things, "/things"), (Kept, "/kept"),
    )  # fmt: skip
    for resource, prefix in resources:
        blueprint = Blueprint(prefix.strip("/"), __name__, url_prefix=prefix)
        resource.register(blueprint)
        get_api(app).register_blueprint(blueprint)
    for role, (codes, all_data) in ROLES.items():
        auth_center.add_role(f"{role}-{mongo_db_name}", codes, all_data=all_data)
    users = {}
    for person, (role, groups) in PEOPLE.items():
        uid = auth_center.add_user([f"{role}-{mongo_db_name}"], groups)
        name = f"{person}-{unique_name()}"
        users[person] = Caller(name, auth_center.login(uid, name), app.test_client())
    assert wait_for_indexes(app, timeout=60)
    yield World(users, mongo_client[mongo_db_name])
    RainbondKit.shutdown(app)


def _ids(caller: Caller, url: str) -> set[str]:
    listed = caller("GET", url, query_string={"$limit": 100})
    assert listed.status_code == 200, listed.get_json()
    return {item["id"] for item in listed.get_json()["items"]}


# --- file resources: upload stamps the owner fields as a resource's create does ---------------


def test_an_upload_cannot_place_a_file_in_another_group(world: World) -> None:
    """Found: an upload stored the client's ``group_list`` form field as sent, so alice (group
    ga) could put a file into group gb's rows, visible to dave (all data of gb) and not to
    herself. A create of a resource stamps the caller's groups (owner_fields) whatever the body
    says; an upload must too."""
    alice, dave = world.users["alice"], world.users["dave"]
    made = alice.upload("/gfiles", b"alice's", (("group_list", "gb"),))
    assert made.status_code == 201, made.get_json()
    file_id = made.get_json()["id"]
    stored = world.db["groupfiles.files"].find_one({"_id": ObjectId(file_id)})
    assert stored is not None
    assert (stored["uploader"], stored["group_list"]) == (alice.name, ["ga"])
    assert _ids(alice, "/gfiles") == {file_id}
    assert _ids(dave, "/gfiles") == set()
    assert dave("GET", f"/gfiles/{file_id}").status_code == 404
    assert dave("GET", f"/gfiles/{file_id}/content").status_code == 404
    assert alice("GET", f"/gfiles/{file_id}/content").data == b"alice's"


def test_uploaders_see_their_own_files_without_a_group_field(world: World) -> None:
    """Found: without a ``group_list`` metadata field an upload under row-level rules stored no
    group at all, so the uploader's own scope (their groups) missed the file: the upload
    answered 404 after storing it, and nobody but an administrator could ever see it. Owners
    (own rows, all data of a group) now see what they upload; others of the group only with
    all data; other groups never."""
    users = world.users
    uploaded = {}
    for person in ("alice", "carol", "dave"):
        made = users[person].upload("/pfiles", person.encode())
        assert made.status_code == 201, (person, made.get_json())
        uploaded[person] = made.get_json()["id"]
        stored = world.db["plainfiles.files"].find_one({"_id": ObjectId(uploaded[person])})
        assert stored is not None
        groups = PEOPLE[person][1]
        assert (stored["uploader"], stored["group_list"]) == (users[person].name, groups)
    assert _ids(users["alice"], "/pfiles") == {uploaded["alice"]}
    assert _ids(users["bob"], "/pfiles") == set()
    assert _ids(users["carol"], "/pfiles") == {uploaded["alice"], uploaded["carol"]}
    assert _ids(users["dave"], "/pfiles") == {uploaded["dave"]}
    assert _ids(users["vera"], "/pfiles") == {uploaded["alice"], uploaded["carol"]}


# --- resources --------------------------------------------------------------------------------


def _create(caller: Caller, title: str, url: str = "/things", **extra: Any) -> dict[str, Any]:
    response = caller("POST", url, json={"title": title, "year": 2000, **extra})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_put_if_none_match_tells_no_one_that_another_users_id_exists(world: World) -> None:
    """Found: on a resource without ``create``, ``PUT`` + ``If-None-Match: *`` answered 412
    for an id taken by a document outside the caller's rows and 404 for an unused id: an
    existence oracle over other users' ids. Outside the caller's scope there is no document
    for them: 404 as for an unused id (and as a plain PUT says); the owner still gets 412."""
    alice, bob, dave = world.users["alice"], world.users["bob"], world.users["dave"]
    taken = str(ObjectId())
    world.db["kept"].insert_one(
        {"_id": ObjectId(taken), "title": "t", "creator": alice.name, "group_list": ["ga"]}
    )
    headers = {"If-None-Match": "*"}
    body = {"title": "mine now"}
    unused = f"/kept/{ObjectId()}"
    for intruder in (bob, dave):
        assert intruder("PUT", unused, json=body, headers=headers).status_code == 404
        answer = intruder("PUT", f"/kept/{taken}", json=body, headers=headers)
        assert (answer.status_code, answer.get_json()["message"]) == (
            404, f"no document with id {taken}"
        )  # fmt: skip
        assert intruder("PUT", f"/kept/{taken}", json=body).status_code == 404
    owner = alice("PUT", f"/kept/{taken}", json=body, headers=headers)
    assert owner.status_code == 412
    assert world.db["kept"].find_one({"_id": ObjectId(taken)})["title"] == "t"
