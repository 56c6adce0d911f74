"""Issue 14, bounded work per request, over HTTP on the real test servers: the four count
modes with soft-deleted documents and scopes present, the ``$offset`` cap, ``startswith`` as a
literal anchored prefix, and the server-side time limit turning a slow query into a 503."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from flask import request
from flask.testing import FlaskClient
from pymongo import monitoring

from rainbond_kit import RainbondKit, Settings
from rainbond_kit.compat.db_connect import DBConnect
from rainbond_kit.errors import ServiceUnavailableError
from rainbond_kit.testing import override
from tests.integration.contract_support import make_resource, serve

URL = "/things"


class NoteSchema(ma.Schema):
    title = ma.fields.String(required=True)
    tenant = ma.fields.String()


def _tenant_scope(self: Any) -> dict[str, Any]:
    return {"tenant": request.headers.get("X-Tenant", "")}


def _seed(collection: pymongo.collection.Collection[dict[str, Any]]) -> None:
    """Tenant a: 5 live, 2 soft-deleted; tenant b: 2 live, 4 soft-deleted (13 stored)."""
    now = dt.datetime.now(dt.timezone.utc)
    docs = []
    for tenant, live, deleted in (("a", 5, 2), ("b", 2, 4)):
        for n in range(live + deleted):
            doc: dict[str, Any] = {"title": f"{tenant}{n}", "tenant": tenant}
            doc.update(creation_time=now, update_time=now)
            if n >= live:
                doc["remove_time"] = now
            docs.append(doc)
    collection.insert_many(docs)


@pytest.fixture
def stored(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str
) -> pymongo.collection.Collection[dict[str, Any]]:
    collection = mongo_client[mongo_db_name]["notes"]
    _seed(collection)
    return collection


@pytest.fixture
def scoped(rainbond_settings: Settings, stored: Any) -> Iterator[FlaskClient]:
    """A resource whose scope is the caller's tenant (X-Tenant), COUNT_LIMIT 3."""
    resource = make_resource(
        NoteSchema, collection="notes", COUNT_LIMIT=3, MAX_OFFSET=5, scope_filter=_tenant_scope
    )
    app = serve(rainbond_settings, resource)
    yield app.test_client()
    RainbondKit.shutdown(app)


@pytest.fixture
def unscoped(rainbond_settings: Settings, stored: Any) -> Iterator[FlaskClient]:
    """The same collection without a scope, COUNT_LIMIT 3."""
    app = serve(rainbond_settings, make_resource(NoteSchema, collection="notes", COUNT_LIMIT=3))
    yield app.test_client()
    RainbondKit.shutdown(app)


def _counts(client: FlaskClient, caller: str | None = None, **params: str) -> tuple[Any, ...]:
    headers = {"X-Tenant": caller} if caller is not None else {}
    listed = client.get(URL, query_string=params, headers=headers)
    assert listed.status_code == 200, listed.get_json()
    body = listed.get_json()
    searched = client.post(f"{URL}/search", json=params, headers=headers)
    assert searched.status_code == 200, searched.get_json()
    assert (searched.get_json()["total"], searched.get_json()["dummy_remove"]) == (
        body["total"],
        body["dummy_remove"],
    )
    assert searched.headers["X-Total-Count-Strategy"] == listed.headers["X-Total-Count-Strategy"]
    return (
        body["total"],
        body["dummy_remove"],
        listed.headers["X-Total-Count-Strategy"],
        listed.headers.get("X-Total-Count"),
    )


@pytest.mark.parametrize(
    ("tenant", "params", "expected"),
    [
        ("a", {}, (5, 2, "exact", "5")),
        ("a", {"$count": "exact"}, (5, 2, "exact", "5")),
        ("a", {"$count": "bounded"}, (3, 2, "bounded", "3")),
        ("b", {"$count": "bounded"}, (2, 3, "exact", "2")),  # dummy_remove capped at 3 of 4
        ("a", {"$count": "bounded", "title[startswith]": "a1"}, (1, 2, "exact", "1")),
        # a scope: metadata cannot answer, so estimated counts bounded and says so
        ("a", {"$count": "estimated"}, (3, 2, "bounded", "3")),
        ("b", {"$count": "estimated"}, (2, 3, "exact", "2")),
        ("a", {"$count": "none"}, (None, None, "none", None)),
        ("zz", {"$count": "bounded"}, (0, 0, "exact", "0")),
    ],
)
def test_count_modes_within_a_scope(
    scoped: FlaskClient, tenant: str, params: dict[str, str], expected: tuple[Any, ...]
) -> None:
    """Each mode's total, dummy_remove and strategy, per tenant, with deleted documents."""
    assert _counts(scoped, tenant, **params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, (7, 6, "exact", "7")),
        ({"$count": "bounded"}, (3, 3, "bounded", "3")),
        # metadata: all 13 stored documents, the 6 soft-deleted ones included; nothing deleted
        # is counted on its own
        ({"$count": "estimated"}, (13, None, "estimated", "13")),
        ({"$count": "estimated", "tenant": "b"}, (2, 3, "exact", "2")),
        ({"$count": "estimated", "title[startswith]": "a"}, (3, 3, "bounded", "3")),
        ({"$count": "none"}, (None, None, "none", None)),
    ],
)
def test_count_modes_without_a_scope(
    unscoped: FlaskClient, params: dict[str, str], expected: tuple[Any, ...]
) -> None:
    """estimated answers from metadata only without a filter; with one it counts bounded."""
    assert _counts(unscoped, **params) == expected


def test_resource_default_count_mode(rainbond_settings: Settings, stored: Any) -> None:
    """COUNT_MODE is the default of every list; a client's $count still wins."""
    resource = make_resource(NoteSchema, collection="notes", COUNT_MODE="bounded", COUNT_LIMIT=4)
    app = serve(rainbond_settings, resource)
    try:
        client = app.test_client()
        assert _counts(client) == (4, 4, "bounded", "4")
        assert _counts(client, **{"$count": "exact"}) == (7, 6, "exact", "7")
    finally:
        RainbondKit.shutdown(app)


def test_unknown_count_mode_is_a_400_envelope(scoped: FlaskClient) -> None:
    answer = scoped.get(URL, query_string={"$count": "roughly"}, headers={"X-Tenant": "a"})
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["code"] == 400
    assert body["message"] == "$count must be one of exact, estimated, bounded, none"
    assert body["errors"] == {"$count": [body["message"]]}


def test_offset_cap_points_to_after(scoped: FlaskClient) -> None:
    """$offset up to MAX_OFFSET works; past it a 400 says to page with $after, which works."""
    headers = {"X-Tenant": "a"}
    at_cap = scoped.get(URL, query_string={"$offset": "5", "$limit": "1"}, headers=headers)
    assert at_cap.status_code == 200
    assert at_cap.get_json()["items"] == []
    four = scoped.get(URL, query_string={"$offset": "4"}, headers=headers).get_json()
    assert [i["title"] for i in four["items"]] == ["a4"]
    past = scoped.get(URL, query_string={"$offset": "6"}, headers=headers)
    assert past.status_code == 400
    body = past.get_json()
    assert "$after" in body["message"]
    assert body["errors"] == {"$offset": [body["message"]]}
    searched = scoped.post(f"{URL}/search", json={"$offset": 6}, headers=headers)
    assert searched.status_code == 400
    titles, cursor = [], None
    while True:  # the way out the message names: every page reached with $after
        params = {"$limit": "2", **({"$after": cursor} if cursor else {})}
        page = scoped.get(URL, query_string=params, headers=headers).get_json()
        titles += [i["title"] for i in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert titles == ["a0", "a1", "a2", "a3", "a4"]


TRICKY = ["a.b(c)*", "axb(c)*", "A.b(c)*", "x a.b(c)*", "[x]^$|?+\\", "^anchor", ".*"]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("a.b(", ["a.b(c)*"]),
        ("a.", ["a.b(c)*"]),
        (".", [".*"]),
        (".*", [".*"]),
        ("^", ["^anchor"]),
        ("[x]^$|?+\\", ["[x]^$|?+\\"]),
        ("a", ["a.b(c)*", "axb(c)*"]),
        ("b(c)", []),
    ],
)
def test_startswith_is_a_literal_anchored_prefix(
    rainbond_settings: Settings, prefix: str, expected: list[str]
) -> None:
    """Regex metacharacters match themselves, the match is case-sensitive and anchored."""
    app = serve(rainbond_settings, make_resource(NoteSchema))
    try:
        client = app.test_client()
        for title in TRICKY:
            assert client.post(URL, json={"title": title}).status_code == 201
        listed = client.get(URL, query_string={"title[startswith]": prefix, "$limit": "100"})
        assert listed.status_code == 200
        assert sorted(i["title"] for i in listed.get_json()["items"]) == sorted(expected)
    finally:
        RainbondKit.shutdown(app)


@pytest.fixture
def slow_collection(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str
) -> pymongo.collection.Collection[dict[str, Any]]:
    """5,000 documents: a contains filter reads them all, well over a 1 ms limit."""
    collection = mongo_client[mongo_db_name]["slow"]
    now = dt.datetime.now(dt.timezone.utc)
    collection.insert_many(
        [{"title": f"t{n}", "creation_time": now, "update_time": now} for n in range(5000)]
    )
    return collection


def test_a_query_over_its_time_limit_is_a_503(
    rainbond_settings: Settings, slow_collection: Any
) -> None:
    """MONGODB_QUERY_TIMEOUT_MS=1: MongoDB stops the list's query (maxTimeMS, code 50) and the
    client gets a 503 envelope naming the limit; the same list answers under the default."""
    tight = dataclasses.replace(
        rainbond_settings, mongo=dataclasses.replace(rainbond_settings.mongo, query_timeout_ms=1)
    )
    resource = make_resource(NoteSchema, collection="slow")
    app = serve(tight, resource)
    try:
        client = app.test_client()
        for params in ({"title": "nothing-matches"}, {"title": "nothing", "$count": "none"}):
            answer = client.get(URL, query_string=params)
            assert answer.status_code == 503, answer.get_json()
            body = answer.get_json()
            assert body["code"] == 503
            assert "MONGODB_QUERY_TIMEOUT_MS" in body["message"]
        with app.app_context():  # compat's DBConnect carries the app's limit too
            compat = DBConnect(rainbond_settings.mongo.database, "slow")
            with pytest.raises(ServiceUnavailableError, match="MONGODB_QUERY_TIMEOUT_MS"):
                compat.find_docu({"title": {"$regex": "nothing"}}, many=True)
    finally:
        RainbondKit.shutdown(app)
    control = serve(rainbond_settings, resource)
    try:
        answer = control.test_client().get(URL, query_string={"title": "t4999"})
        assert answer.status_code == 200
        assert answer.get_json()["total"] == 1
    finally:
        RainbondKit.shutdown(control)


def test_estimated_without_soft_delete(rainbond_settings: Settings) -> None:
    """A hard-deleting resource: metadata counts exactly what is stored, dummy_remove is 0."""
    app = serve(rainbond_settings, make_resource(NoteSchema, SOFT_DELETE=False, COUNT_LIMIT=2))
    try:
        client = app.test_client()
        ids = [client.post(URL, json={"title": f"n{n}"}).get_json()["id"] for n in range(4)]
        assert client.delete(f"{URL}/{ids[0]}").status_code == 204
        assert _counts(client, **{"$count": "estimated"}) == (3, 0, "estimated", "3")
        assert _counts(client, **{"$count": "bounded"}) == (2, 0, "bounded", "2")
        assert _counts(client, **{"$count": "exact"}) == (3, 0, "exact", "3")
    finally:
        RainbondKit.shutdown(app)


class _Commands(monitoring.CommandListener):
    """Records the commands a client sends (name and body)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _listed_on_the_wire(
    settings: Settings, mongo_uri: str, params: dict[str, str]
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """List the notes (COUNT_LIMIT 3) through a client that records the commands it sends:
    the body and the commands on the notes collection."""
    app = serve(settings, make_resource(NoteSchema, collection="notes", COUNT_LIMIT=3))
    recorder = _Commands()
    watched: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        mongo_uri, event_listeners=[recorder]
    )
    try:
        with override(app, mongo_client=watched):
            listed = app.test_client().get(URL, query_string=params)
            assert listed.status_code == 200, listed.get_json()
    finally:
        RainbondKit.shutdown(app)
        watched.close()
    sent = [(name, body) for name, body in recorder.sent if body.get(name) == "notes"]
    return listed.get_json(), sent


@pytest.mark.parametrize(
    ("params", "counting"),
    [
        # bounded: each count is an aggregate that stops after COUNT_LIMIT + 1 documents
        ({"$count": "bounded"}, [("aggregate", 4), ("aggregate", 4)]),
        # estimated without a filter: the collection's metadata (the `count` command with no
        # query), and no second count for dummy_remove
        ({"$count": "estimated"}, [("count", None)]),
        ({"$count": "none"}, []),
    ],
)
def test_count_modes_send_bounded_commands(
    rainbond_settings: Settings,
    stored: Any,
    mongo_uri: str,
    params: dict[str, str],
    counting: list[tuple[str, int | None]],
) -> None:
    """What each mode asks the server, read off the wire: the reason bounded and estimated
    lists do not grow with the collection on MongoDB (SecantusDB, the test server, scans
    anyway; see docs/scaling.md)."""
    _, sent = _listed_on_the_wire(rainbond_settings, mongo_uri, params)
    assert sent[0][0] == "find"
    seen: list[tuple[str, int | None]] = []
    for name, body in sent[1:]:
        if name == "aggregate":
            limits = [stage["$limit"] for stage in body["pipeline"] if "$limit" in stage]
            seen.append((name, limits[0] if limits else None))
        else:
            assert "query" not in body or not body["query"], body
            seen.append((name, None))
    assert seen == counting


@pytest.mark.parametrize(
    ("params", "counts", "counted"),
    [
        # the page holds every live match: total = offset + page, only dummy_remove is counted
        ({"$limit": "20"}, (7, 6), 1),
        ({"$offset": "5", "$limit": "5"}, (7, 6), 1),
        ({"$limit": "20", "title": "a1"}, (1, 6), 1),
        # a full page or a page past the end cannot tell: both counts are sent
        ({"$limit": "5"}, (7, 6), 2),
        ({"$offset": "9", "$limit": "5"}, (7, 6), 2),
        # bounded: a known total beyond COUNT_LIMIT is not taken (the count stays bounded)
        ({"$limit": "20", "$count": "bounded"}, (3, 3), 2),
    ],
)
def test_a_page_holding_every_match_is_not_counted_again(
    rainbond_settings: Settings,
    stored: Any,
    mongo_uri: str,
    params: dict[str, str],
    counts: tuple[int, int],
    counted: int,
) -> None:
    """A list whose page shows the last match knows its total: read off the wire, it sends
    only the dummy_remove count; totals stay exact (7 live and 6 soft-deleted stored)."""
    body, sent = _listed_on_the_wire(rainbond_settings, mongo_uri, params)
    assert (body["total"], body["dummy_remove"]) == counts
    assert [name for name, _ in sent] == ["find", *["aggregate"] * counted]
