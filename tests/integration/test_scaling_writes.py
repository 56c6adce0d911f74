"""Resource options for replica sets and sharded clusters (issue 14): SHARD_KEY in the write
filters, INDEXED_SORTS_ONLY, on a real MongoDB wire server with a command listener."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from flask import Flask, request
from flask_smorest import Blueprint
from pymongo import monitoring

from rainbond_kit import ConfigurationError, get_api
from rainbond_kit.resource import ResourceView
from rainbond_kit.testing import override
from tests.conftest import KitAppFactory


class DocSchema(ma.Schema):
    title = ma.fields.String(required=True)
    region = ma.fields.String()
    year = ma.fields.Integer()


class TenantDocs(ResourceView):
    """Sharded by (tenant, region): tenant from the scope stamp, region from the document."""

    COLLECTION = "tenant_docs"
    SCHEMA = DocSchema
    SHARD_KEY = ("tenant", "region")

    def scope_filter(self) -> Mapping[str, Any] | None:
        return {"tenant": request.headers["X-Tenant"]}


class SortedDocs(ResourceView):
    COLLECTION = "sorted_docs"
    SCHEMA = DocSchema
    INDEXED_SORTS_ONLY = True
    INDEXES = (pymongo.IndexModel([("year", -1), ("title", 1)], name="year_title"),)


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in ("findAndModify", "update"):
            self.seen.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _app(make_kit_app: KitAppFactory, env: dict[str, str], view: type[ResourceView]) -> Flask:
    app = make_kit_app(env)
    blp = Blueprint(view.COLLECTION, __name__, url_prefix="/items")
    view.register(blp)
    get_api(app).register_blueprint(blp)
    return app


@pytest.fixture
def commands(mongo_uri: str) -> Iterator[tuple[Commands, pymongo.MongoClient[dict[str, Any]]]]:
    listener = Commands()
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        mongo_uri, tz_aware=True, event_listeners=[listener]
    )
    yield listener, client
    client.close()


def _filter_fields(command: dict[str, Any]) -> dict[str, Any]:
    """The plain equality conditions of a findAndModify/update filter's top-level $and."""
    query = command["query"] if "query" in command else command["updates"][0]["q"]
    found: dict[str, Any] = {}
    for part in query.get("$and", [query]):
        found.update({k: v for k, v in part.items() if not k.startswith("$")})
    return found


def test_shard_key_is_in_every_write_filter(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str],
    commands: tuple[Commands, pymongo.MongoClient[dict[str, Any]]],
) -> None:  # fmt: skip
    """PUT, PATCH and DELETE filters carry tenant (scope stamp) and region (stored value; a
    missing one as null), and writes under another tenant still miss (404)."""
    listener, client = commands
    app = _app(make_kit_app, rainbond_env, TenantDocs)
    http = app.test_client()
    with override(app, mongo_client=client):
        acme = {"X-Tenant": "acme"}
        east = http.post("/items", json={"title": "a", "region": "east"}, headers=acme).get_json()
        bare = http.post("/items", json={"title": "b"}, headers=acme).get_json()
        listener.seen.clear()
        assert http.patch(f"/items/{east['id']}", json={"title": "a2"}, headers=acme).status_code == 200  # fmt: skip
        assert http.put(f"/items/{bare['id']}", json={"title": "b2"}, headers=acme).status_code == 200  # fmt: skip
        assert http.delete(f"/items/{east['id']}", headers=acme).status_code == 204
        other = http.patch(f"/items/{bare['id']}", json={"title": "x"}, headers={"X-Tenant": "evil"})  # fmt: skip
        assert other.status_code == 404
        fields = [_filter_fields(c) for c in listener.seen]
    assert [(f["tenant"], f["region"]) for f in fields[:3]] == [
        ("acme", "east"),
        ("acme", None),
        ("acme", "east"),
    ]
    assert [c.get("findAndModify") or c.get("update") for c in listener.seen[:3]] == ["tenant_docs"] * 3  # fmt: skip
    assert all("_id" in f for f in fields[:3])


def test_indexed_sorts_only(make_kit_app: KitAppFactory, rainbond_env: dict[str, str]) -> None:
    """Only fields an index starts with (and id) sort; others are the list language's 400
    naming $orderby and the allowed fields."""
    client = _app(make_kit_app, rainbond_env, SortedDocs).test_client()
    for year in (2001, 1999):
        assert client.post("/items", json={"title": "t", "year": year}).status_code == 201
    assert [d["year"] for d in client.get("/items", query_string={"$orderby": "year desc"}).get_json()["items"]] == [2001, 1999]  # fmt: skip
    assert client.get("/items?$orderby=id").status_code == 200
    refused = client.get("/items?$orderby=title")
    assert refused.status_code == 400
    assert refused.get_json()["message"] == "$orderby: cannot sort by 'title'; allowed: id, year"


def test_indexed_sorts_only_refuses_unsupported_sort_fields(bare_app: Flask) -> None:
    """An explicit SORT_FIELDS naming a field no declared index starts with is a
    ConfigurationError at register(), naming the class and the field; a supported one registers."""

    class Bad(SortedDocs):
        SORT_FIELDS = ("year", "title")

    class Good(SortedDocs):
        SORT_FIELDS = ("year",)

    with pytest.raises(ConfigurationError, match=r"Bad.SORT_FIELDS names \['title'\]"):
        Bad.register(Blueprint("bad", __name__))
    Good.register(Blueprint("good", __name__))


@pytest.mark.parametrize("value", ["tenant", ("tenant", ""), (1,)])
def test_shard_key_must_be_field_names(value: Any) -> None:
    """SHARD_KEY as a bare string, an empty name or a non-string is refused at register()."""

    class Wrong(TenantDocs):
        SHARD_KEY = value

    with pytest.raises(
        ConfigurationError, match=r"Wrong\.SHARD_KEY must be a tuple of field names"
    ):
        Wrong.register(Blueprint("wrong", __name__))
