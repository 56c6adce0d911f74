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
from flask_smorest import Blueprint
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rainbond_kit import (
    ConfigurationError,
    FileResource,
    RainbondKit,
    ResourceView,
    get_api,
    wait_for_indexes,
)
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
from tests.integration.auth_support import Caller as BaseCaller

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


class Owned(ResourceView):
    """A title unique per owner: the unique index starts with the owner field."""

    COLLECTION = "owned"
    SCHEMA = ThingSchema
    PERMISSION = (CENTER, PERM)
    ROW_LEVEL_FIELD = "creator"
    INDEXES = (
        pymongo.IndexModel(
            [("creator", 1), ("title", 1), ("remove_time", 1)], unique=True, name="title_per_owner"
        ),
    )


class ThingRefSchema(ma.Schema):
    thing_id = ma.fields.String(required=True)


class ThingFiles(FileResource):
    """Files attached to things: the reference is checked in the uploader's scope."""

    BUCKET = "thingfiles"
    METADATA_SCHEMA = ThingRefSchema
    PERMISSION = (CENTER, PERM)
    ROW_LEVEL_FIELD = "uploader"
    REFERENCES = {"thing_id": Things}  # noqa: RUF012


class EtagFiles(FileResource):
    """Hard-deleted files with ETags: a DELETE is conditional on ``If-Match``."""

    BUCKET = "etagfiles"
    ETAG = True
    SOFT_DELETE = False


class SoftEtagFiles(FileResource):
    BUCKET = "softetag"
    ETAG = True


class Caller(BaseCaller):
    """A user, with the requests this module sends most."""

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
        (Owned, "/owned"), (ThingFiles, "/tfiles"), (EtagFiles, "/efiles"),
        (SoftEtagFiles, "/sfiles"),
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


def test_a_write_only_field_is_no_filter_sort_projection_or_echo(world: World) -> None:
    """``secret`` (``load_only``) never comes back and cannot be used to infer values: filtering,
    sorting or projecting by it is a 400 on the list and on ``/search``; a create, a read, a
    batch result and an action's answer leave it out; a duplicate names it without its value."""
    alice, bob = world.users["alice"], world.users["bob"]
    made = _create(alice, "a", secret="s3cr3t")
    assert "secret" not in made
    for params in ({"secret": "s3cr3t"}, {"secret[startswith]": "s"}, {"$orderby": "secret"},
                   {"$fields": "secret"}, {"$date_type": "secret", "$start_date": "2020-01-01",
                                           "$end_date": "2030-01-01"}):  # fmt: skip
        listed = alice("GET", "/things", query_string=params)
        searched = alice("POST", "/things/search", json=params)
        assert (listed.status_code, searched.status_code) == (400, 400), params
    assert "secret" not in alice("GET", f"/things/{made['id']}").get_json()
    stamped = alice("POST", f"/things/{made['id']}/stamp")
    assert stamped.status_code == 200, stamped.get_json()
    assert set(stamped.get_json()) == {"id", "title", "year", "creation_time", "update_time"}
    batch = alice(
        "POST", "/things/batch",
        json={"operations": [{"op": "create", "data": {"title": "b", "secret": "other"}}]},
    )  # fmt: skip
    assert "secret" not in batch.get_json()["results"][0]["item"]
    clash = bob("POST", "/things", json={"title": "b", "secret": "s3cr3t"})
    assert clash.status_code == 409
    assert (clash.get_json()["message"], clash.get_json()["errors"]) == (
        "a document with the same secret exists", {"secret": ["already exists"]}
    )  # fmt: skip
    assert "duplicate" not in clash.get_json()


def test_conditional_reads_and_actions_of_others_are_404(world: World) -> None:
    """``If-None-Match`` never answers 304 (nor ``If-Match`` 412) for a document outside the
    caller's rows: 404 as for a missing one; an item action loads under the scope (404) and
    needs its own code (403); the owner gets 304/412 and runs the action."""
    alice, bob, dave, vera = (world.users[p] for p in ("alice", "bob", "dave", "vera"))
    made = _create(alice, "a")
    url = f"/things/{made['id']}"
    etag = alice("GET", url).headers["ETag"]
    assert etag == '"0"'
    for intruder in (bob, dave):
        for tag in (etag, "*", '"1"'):
            assert intruder("GET", url, headers={"If-None-Match": tag}).status_code == 404
            assert intruder("HEAD", url, headers={"If-None-Match": tag}).status_code == 404
            for verb in ("PATCH", "PUT"):
                answer = intruder(verb, url, json={"title": "x"}, headers={"If-Match": tag})
                assert answer.status_code == 404, (verb, tag)
            assert intruder("DELETE", url, headers={"If-Match": '"7"'}).status_code == 404
        assert intruder("POST", f"{url}/stamp").status_code == 404
    assert vera("POST", f"{url}/stamp").get_json()["required_codes"] == [4]
    assert alice("GET", url, headers={"If-None-Match": etag}).status_code == 304
    assert alice("PATCH", url, json={"title": "x"}, headers={"If-Match": '"7"'}).status_code == 412
    assert alice("POST", f"{url}/stamp").get_json()["year"] == 1
    assert world.db["things"].find_one({"_id": ObjectId(made["id"])})["title"] == "a"


def test_an_idempotency_key_replays_only_to_the_caller_who_used_it(world: World) -> None:
    """The same ``Idempotency-Key`` and body from two users are two creates, each stamped with
    its own caller; each user's retry replays their own response only."""
    alice, bob = world.users["alice"], world.users["bob"]
    key = {"Idempotency-Key": "same-key"}
    body = {"title": "t", "year": 1}
    first = alice("POST", "/things", json=body, headers=key)
    other = bob("POST", "/things", json=body, headers=key)
    assert (first.status_code, other.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in other.headers
    assert first.get_json()["id"] != other.get_json()["id"]
    again = bob("POST", "/things", json=body, headers=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == other.get_json()
    owners = {d["creator"] for d in world.db["things"].find()}
    assert owners == {alice.name, bob.name}
    assert world.db["things"].count_documents({}) == 2


def test_counts_of_deleted_rows_stay_inside_the_scope(world: World) -> None:
    """``dummy_remove`` (every count mode) and ``total`` count only the caller's rows: alice's
    deleted document is counted for her and for carol (all data of ga), not for bob (own rows
    of ga) nor dave (gb); ``estimated`` falls back to a scoped count."""
    users = world.users
    gone = _create(users["alice"], "gone")
    _create(users["alice"], "kept")
    _create(users["dave"], "dave's")
    assert users["alice"]("DELETE", f"/things/{gone['id']}").status_code == 204
    expected = {"alice": (1, 1), "bob": (0, 0), "carol": (1, 1), "dave": (1, 0)}
    for person, counts in expected.items():
        for mode in ("exact", "bounded", "estimated"):
            for method, url, kwargs in (
                ("GET", "/things", {"query_string": {"$count": mode}}),
                ("POST", "/things/search", {"json": {"$count": mode}}),
            ):
                body = users[person](method, url, **kwargs).get_json()
                assert (body["total"], body["dummy_remove"]) == counts, (person, mode, url)


def test_every_route_checks_the_code_of_its_operation(
    world: World, auth_center: AuthCenter, mongo_db_name: str
) -> None:
    """A user holding every code but the one a route needs gets 403 naming it, on every route
    of a resource and of a file resource (search is a read, PUT + If-None-Match also needs
    create, content needs download)."""
    owner = world.users["carol"]
    item = _create(owner, "x")["id"]
    body, content_type = multipart(b"file")
    upload = {"data": body, "content_type": content_type}
    file_id = owner.upload("/pfiles", b"file").get_json()["id"]
    routes: list[tuple[int | tuple[int, int], str, str, dict[str, Any]]] = [
        (1, "GET", "/things", {}),
        (1, "HEAD", "/things", {}),
        (1, "POST", "/things/search", {"json": {}}),
        (2, "POST", "/things", {"json": {"title": "t"}}),
        (1, "GET", f"/things/{item}", {}),
        (1, "HEAD", f"/things/{item}", {}),
        (4, "PUT", f"/things/{item}", {"json": {"title": "t"}}),
        ((4, 2), "PUT", f"/things/{ObjectId()}", {"json": {"title": "t"}, "headers": {"If-None-Match": "*"}}),
        (4, "PATCH", f"/things/{item}", {"json": {"title": "t"}}),
        (8, "DELETE", f"/things/{item}", {}),
        (4, "POST", f"/things/{item}/stamp", {}),
        (1, "GET", "/pfiles", {}),
        (2, "POST", "/pfiles", upload),
        (1, "GET", f"/pfiles/{file_id}", {}),
        (8, "DELETE", f"/pfiles/{file_id}", {}),
        (16, "GET", f"/pfiles/{file_id}/content", {}),
        (16, "HEAD", f"/pfiles/{file_id}/content", {}),
    ]  # fmt: skip
    everything = [1, 2, 4, 8, 16]
    for code in everything:
        role = f"no{code}-{mongo_db_name}"
        auth_center.add_role(role, [c for c in everything if c != code], all_data=True)
        name = unique_name()
        token = auth_center.login(auth_center.add_user([role], ["ga"]), name)
        caller = Caller(name, token, owner.client)
        for needed, method, url, kwargs in routes:
            answer = caller(method, url, **kwargs)
            if code in (needed if isinstance(needed, tuple) else (needed,)):
                assert answer.status_code == 403, (code, method, url)
                if method != "HEAD":
                    assert answer.get_json()["required_codes"] == [code], (method, url)
            else:
                assert answer.status_code != 403, (code, method, url, answer.get_json())


def test_a_file_resource_refuses_row_level_rules_without_a_permission() -> None:
    """Found: ``FileResource.register`` skipped the options check every resource gets, so
    ``ROW_LEVEL_FIELD`` without ``PERMISSION`` registered and then served every file to every
    caller (no scope without the auth center), and unknown ``OPERATIONS`` were ignored. Both
    are now the resource's ``ConfigurationError`` naming the option."""

    class Unscoped(FileResource):
        BUCKET = "unscoped"
        ROW_LEVEL_FIELD = "uploader"

    class Misspelt(FileResource):
        BUCKET = "misspelt"
        OPERATIONS = frozenset({"list", "uplod"})

    with pytest.raises(ConfigurationError) as unscoped:
        Unscoped.register(Blueprint("unscoped", __name__))
    assert str(unscoped.value) == (
        "Unscoped.ROW_LEVEL_FIELD needs PERMISSION (row-level rules come from the auth center)"
    )
    with pytest.raises(ConfigurationError) as misspelt:
        Misspelt.register(Blueprint("misspelt", __name__))
    assert str(misspelt.value) == (
        "Misspelt.OPERATIONS has unknown operations ['uplod']; "
        "known: ['content', 'delete', 'list', 'read', 'upload']"
    )


def test_an_action_cannot_be_declared_on_a_method_the_permission_check_lets_through() -> None:
    """Found: ``action(method="OPTIONS")`` was routed to the method, and the permission check
    lets every ``OPTIONS`` request through unauthenticated (CORS preflights), so the action ran
    for anyone; other unknown methods could never pass it. An action's method is now one of
    GET, POST, PUT, PATCH and DELETE (``ConfigurationError`` otherwise); the control is
    accepted."""
    for method in ("OPTIONS", "options", "HEAD", "TRACE", "PURGE"):
        with pytest.raises(ConfigurationError) as refused:
            action("peek", method=method)
        assert str(refused.value) == (
            f"action 'peek': method {method.upper()!r} is not one of GET, POST, PUT, PATCH, DELETE"
        )
    assert callable(action("peek", method="delete"))


PROBE = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_QUERIES = st.fixed_dictionaries(
    {
        "person": st.sampled_from(sorted(PEOPLE)),
        "title": st.sampled_from([None, "a", "b", "ab"]),
        "year": st.sampled_from([None, ("gte", 2001), ("lt", 2002), ("ne", 2000)]),
        "order": st.sampled_from([None, "title", "year desc", "title desc,year", "id desc"]),
        "limit": st.integers(1, 4),
        "channel": st.sampled_from(["GET", "search"]),
    }
)


@PROBE
@given(query=_QUERIES)
def test_every_page_of_every_query_stays_inside_the_callers_rows(
    world: World, query: dict[str, Any]
) -> None:
    """Random filters, sorts, page sizes and channels (query string or ``/search``), walked to
    the end with ``$after``: each user gets exactly the matching documents of their own rows,
    once each, and ``total`` counts exactly those (alice and bob: their own; carol and vera:
    group ga; dave: group gb)."""
    docs = world.db["things"]
    if docs.count_documents({}) == 0:
        titles = ["a", "ab", "b", "ba", "abc"]
        for n, person in enumerate(["alice"] * 4 + ["bob"] * 3 + ["carol"] * 2 + ["dave"] * 3):
            _create(world.users[person], titles[n % 5], year=2000 + n % 3)
    caller = world.users[query["person"]]
    role, groups = PEOPLE[query["person"]]
    rows: dict[str, Any] = {"group_list": {"$in": groups}}
    if not ROLES[role][1]:
        rows["creator"] = caller.name
    params: dict[str, Any] = {"$limit": query["limit"]}
    expected: dict[str, Any] = {}
    if query["title"] is not None:
        params["title"] = query["title"]
        expected["title"] = {"$regex": query["title"]}
    if query["year"] is not None:
        op, year = query["year"]
        params[f"year[{op}]"] = year
        expected["year"] = {f"${op}": year}
    if query["order"] is not None:
        params["$orderby"] = query["order"]
    wanted = {str(d["_id"]) for d in docs.find({"$and": [rows, expected]})}
    seen: list[str] = []
    totals: set[int] = set()
    for _ in range(40):
        if query["channel"] == "GET":
            page = caller("GET", "/things", query_string=params)
        else:
            page = caller("POST", "/things/search", json=params)
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        seen += [item["id"] for item in body["items"]]
        totals.add(body["total"])
        if body["next"] is None:
            break
        params["$after"] = body["next"]
    assert sorted(seen) == sorted(wanted)
    assert totals == {len(wanted)}


def test_a_unique_index_led_by_the_owner_collides_only_with_the_callers_rows(
    world: World,
) -> None:
    """The documented per-owner unique index (``creator``, ``title``, ``remove_time``): alice
    and bob each hold "x"; alice's second "x" is a 409 naming the fields, with the readable
    title only (the owner field is no output field), and a deleted "x" never blocks."""
    alice, bob = world.users["alice"], world.users["bob"]
    first = _create(alice, "x", url="/owned")
    assert bob("POST", "/owned", json={"title": "x"}).status_code == 201
    clash = alice("POST", "/owned", json={"title": "x"}).get_json()
    assert (clash["code"], clash["message"], clash["errors"], clash["duplicate"]) == (
        409,
        "a document with the same creator, title exists",
        {"creator": ["already exists"], "title": ["already exists"]},
        {"title": "x"},
    )
    assert alice("DELETE", f"/owned/{first['id']}").status_code == 204
    assert alice("POST", "/owned", json={"title": "x"}).status_code == 201


def test_a_file_can_only_reference_what_its_uploader_may_see(world: World) -> None:
    """Found: ``REFERENCES`` on a file resource was silently ignored, so alice could attach a
    file to bob's document (or to none at all) and nobody could ``$expand`` it. An upload now
    checks its references in the uploader's scope (422 naming the field, nothing stored) and
    lists and reads expand them for readers who may see the target."""
    alice, bob, carol = world.users["alice"], world.users["bob"], world.users["carol"]
    mine, bobs = _create(alice, "mine"), _create(bob, "bob's")
    for target in (bobs["id"], str(ObjectId())):
        refused = alice.upload("/tfiles", b"x", (("thing_id", target),))
        assert refused.status_code == 422, refused.get_json()
        assert refused.get_json()["errors"] == {
            "form": {"thing_id": ["thing_id: no such document"]}
        }
    assert world.db["thingfiles.files"].count_documents({}) == 0
    assert world.db["thingfiles.chunks"].count_documents({}) == 0
    made = alice.upload("/tfiles", b"x", (("thing_id", mine["id"]),))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["thing_id"] == mine["id"]
    for reader in (alice, carol):
        listed = reader("GET", "/tfiles", query_string={"$expand": "thing_id"}).get_json()
        assert [item["thing_id"]["title"] for item in listed["items"]] == ["mine"]
        read = reader("GET", f"/tfiles/{made.get_json()['id']}?$expand=thing_id").get_json()
        assert read["thing_id"]["id"] == mine["id"]


def test_a_file_delete_honours_if_match(world: World) -> None:
    """Found: a file resource's DELETE ignored ``If-Match`` (``ETAG = True``): a stale
    conditional delete removed the file anyway (the write carried neither the version nor the
    scope it had read). Now a tag other than the file's is a 412 and the file stays, soft or
    hard; the current tag deletes."""
    client = world.users["alice"].client
    for url, files in (("/efiles", "etagfiles.files"), ("/sfiles", "softetag.files")):
        body, content_type = multipart(b"keep me", fields=())
        made = client.post(url, data=body, content_type=content_type)
        assert made.status_code == 201, made.get_json()
        item = f"{url}/{made.get_json()['id']}"
        etag = client.get(item).headers["ETag"]
        assert etag == '"0"'
        stale = client.delete(item, headers={"If-Match": '"3"'})
        assert (stale.status_code, stale.get_json()["message"]) == (
            412, "the document changed since it was read (ETag)"
        )  # fmt: skip
        assert client.get(f"{item}/content").data == b"keep me"
        assert world.db[files].count_documents({"remove_time": {"$exists": True}}) == 0
        assert client.delete(item, headers={"If-Match": etag}).status_code == 204
        assert client.get(item).status_code == 404
    paths = client.get("/openapi.json").get_json()["paths"]
    for url in ("/efiles", "/sfiles"):
        delete = paths[f"{url}/{{item_id}}"]["delete"]
        assert "412" in delete["responses"]
        assert "If-Match" in [p["name"] for p in delete["parameters"] if "name" in p]
    # without ETAG no If-Match is offered; the 412 stays documented for If-None-Match: *
    plain = paths["/pfiles/{item_id}"]["delete"]
    assert "If-Match" not in [p["name"] for p in plain.get("parameters", []) if "name" in p]
    assert "412" in plain["responses"]


_OPS = st.lists(
    st.fixed_dictionaries(
        {
            "op": st.sampled_from(["create", "update", "delete"]),
            "target": st.integers(0, 11),
            "data": st.fixed_dictionaries(
                {"title": st.sampled_from(["p", "q"])},
                optional={
                    "creator": st.just("mallory"),
                    "group_list": st.just(["gb", "ga"]),
                    "year": st.integers(1, 3),
                },
            ),
            "version": st.sampled_from([None, None, 0, 1, 5]),
        }
    ),
    min_size=1,
    max_size=6,
)


@PROBE
@given(person=st.sampled_from(sorted(PEOPLE)), ops=_OPS, ordered=st.booleans())
def test_a_batch_changes_only_rows_its_caller_may_write(
    world: World, person: str, ops: list[dict[str, Any]], ordered: bool
) -> None:
    """Random batches (creates, merge-patch updates and deletes, claimed owners and groups,
    expected versions) by every user: a document outside the caller's rows never changes and
    its operation answers 404; a viewer changes nothing (403); created documents belong to the
    caller and their groups; no owner or group field ever moves."""
    docs = world.db["things"]
    if docs.count_documents({}) == 0:
        for n, owner in enumerate(["alice", "bob", "carol", "dave"] * 3):
            _create(world.users[owner], f"t{n}")
    ids = [str(d["_id"]) for d in docs.find({}, sort=[("_id", 1)]).limit(12)]
    before = {str(d["_id"]): d for d in docs.find()}
    caller = world.users[person]
    role, groups = PEOPLE[person]
    all_data = ROLES[role][1]

    def mine(doc: dict[str, Any]) -> bool:
        in_group = bool(set(doc.get("group_list", [])) & set(groups))
        return in_group and (all_data or doc.get("creator") == caller.name)

    operations = []
    for op in ops:
        operation: dict[str, Any] = {"op": op["op"]}
        if op["op"] != "create":
            operation["id"] = ids[op["target"]]
            if op["version"] is not None:
                operation["version"] = op["version"]
        if op["op"] != "delete":
            operation["data"] = op["data"]
        operations.append(operation)
    answer = caller("POST", "/things/batch", json={"ordered": ordered, "operations": operations})
    assert answer.status_code == 207, answer.get_json()
    results = answer.get_json()["results"]
    writer = ROLES[role][0] != [1]
    for operation, result in zip(operations, results, strict=True):
        if not writer:
            assert result["status"] in (403, 424), result
        elif operation["op"] != "create" and not mine(before[operation["id"]]):
            assert result["status"] in (404, 400, 424), result
    after = {str(d["_id"]): d for d in docs.find()}
    for key, old in before.items():
        new = after[key]
        assert (new.get("creator"), new.get("group_list")) == (old["creator"], old["group_list"])
        if new != old:
            assert writer, (person, key)
            assert mine(old), (person, key)
    for key in after.keys() - before.keys():
        assert (after[key]["creator"], after[key]["group_list"]) == (caller.name, groups)
