"""Actions on a resource with Enum, DateTime and Nested fields, a rate limit and subclasses.

Regression: returning a stored document through ``@blp.response`` crashed on Enum values (the
stored value is a string, marshmallow's Enum field dumps members only). Actions serialize
through the schema's codec: stored and loaded values both come out as documented.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

import marshmallow as ma
import pytest
from bson import ObjectId
from flask import Flask, Response
from flask_smorest import Blueprint
from openapi_spec_validator import validate

from rainbond_kit import RainbondKit, ResourceView, Settings, get_api
from rainbond_kit.resource import ALL_OPERATIONS
from rainbond_kit.resource.actions import action
from tests.conftest import KitAppFactory
from tests.integration.contract_support import make_resource, serve

URL = "/tickets"


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class PlaceSchema(ma.Schema):
    city = ma.fields.String()


class TicketSchema(ma.Schema):
    title = ma.fields.String(required=True)
    priority = ma.fields.Enum(Priority, by_value=True, load_default=Priority.LOW)
    due = ma.fields.DateTime()
    place = ma.fields.Nested(PlaceSchema)


class SummarySchema(ma.Schema):
    title = ma.fields.String()
    priority = ma.fields.Enum(Priority, by_value=True)
    due = ma.fields.DateTime()
    place = ma.fields.Nested(PlaceSchema)


class CostSchema(ma.Schema):
    amount = ma.fields.Decimal()
    text = ma.fields.Decimal(as_string=True)


class LimitSchema(ma.Schema):
    limit = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=5))


class Tickets(ResourceView):
    """Tickets."""

    COLLECTION = "tickets"
    SCHEMA = TicketSchema

    @action("summary", method="GET", response=SummarySchema)
    def summary(self, doc: dict[str, Any], data: None) -> dict[str, Any]:
        """The stored document through another schema."""
        return doc

    @action("fresh", method="GET", response=SummarySchema)
    def fresh(self, doc: dict[str, Any], data: None) -> dict[str, Any]:
        """Loaded values (an Enum member, an aware datetime) through the schema."""
        due = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
        return {"title": doc["title"], "priority": Priority.HIGH, "due": due}

    @action("cost", method="GET", response=CostSchema)
    def cost(self, doc: dict[str, Any], data: None) -> dict[str, Any]:
        """Decimals in a response schema the resource's own does not have."""
        return {
            "amount": decimal.Decimal("0.10"),
            "text": decimal.Decimal("12345678901234567890.12"),
        }

    @action("touch", code=4)
    def touch(self, doc: dict[str, Any], data: None) -> None:
        """Nothing to say: 204."""
        return

    @action("raw", method="GET")
    def raw(self, doc: dict[str, Any], data: None) -> Response:
        """A ready response, as it is."""
        return Response("plain", status=202, mimetype="text/plain")

    @action("top", item=False, method="GET", args=LimitSchema, response=SummarySchema(many=True))
    def top(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Stored documents as a list."""
        return self.repository.find(self.scope_filter(), limit=data["limit"], sort=[("title", 1)])


class ArchivedTickets(Tickets):
    """A subclass registered on its own: the actions come along."""


@pytest.fixture
def app(make_kit_app: KitAppFactory, rainbond_env: dict[str, str]) -> Flask:
    app = make_kit_app(rainbond_env)
    blp = Blueprint("tickets", __name__, url_prefix=URL)
    Tickets.register(blp)
    archived = Blueprint("archived", __name__, url_prefix="/archived")
    ArchivedTickets.register(archived)
    get_api(app).register_blueprint(blp)
    get_api(app).register_blueprint(archived)
    return app


def _ticket(app: Flask, url: str = URL, **fields: Any) -> dict[str, Any]:
    body = {"title": "t", "priority": "high", "due": "2026-03-04T05:06:07+08:00",
            "place": {"city": "杭州"}, **fields}  # fmt: skip
    created = app.test_client().post(url, json=body)
    assert created.status_code == 201, created.get_json()
    return dict(created.get_json())


def test_stored_document_with_enum_serializes_through_another_schema(app: Flask) -> None:
    """Enum as its value, DateTime as ISO UTC, Nested as is; no crash."""
    ticket = _ticket(app)
    summary = app.test_client().get(f"{URL}/{ticket['id']}/summary")
    assert summary.status_code == 200
    assert summary.get_json() == {
        "title": "t",
        "priority": "high",
        "due": "2026-03-03T21:06:07+00:00",
        "place": {"city": "杭州"},
    }


def test_loaded_values_serialize_as_documented(app: Flask) -> None:
    """An Enum member and a datetime returned by the action come out as the schema dumps."""
    ticket = _ticket(app)
    fresh = app.test_client().get(f"{URL}/{ticket['id']}/fresh").get_json()
    assert fresh == {"title": "t", "priority": "high", "due": "2026-01-02T03:04:05+00:00"}


def test_decimals_of_a_response_schema_are_exact(app: Flask) -> None:
    """A number keeps its digits (0.10, not 0.1 nor "0.10"); as_string sends the text."""
    ticket = _ticket(app)
    cost = app.test_client().get(f"{URL}/{ticket['id']}/cost")
    assert cost.status_code == 200
    assert b'"amount":0.10' in cost.data.replace(b" ", b"")
    assert cost.get_json()["text"] == "12345678901234567890.12"


def test_none_is_204_and_a_response_passes_through(app: Flask) -> None:
    """None -> 204 without a body; a Response -> itself."""
    ticket = _ticket(app)
    client = app.test_client()
    touched = client.post(f"{URL}/{ticket['id']}/touch")
    assert (touched.status_code, touched.data) == (204, b"")
    raw = client.get(f"{URL}/{ticket['id']}/raw")
    assert (raw.status_code, raw.data, raw.mimetype) == (202, b"plain", "text/plain")


def test_collection_action_lists_through_a_many_schema(app: Flask) -> None:
    """A list of stored documents through SummarySchema(many=True); bad args 422."""
    for title in ("c", "a", "b"):
        _ticket(app, title=title, priority="low")
    client = app.test_client()
    top = client.get(f"{URL}/top?limit=2")
    assert top.status_code == 200, top.get_json()
    assert [(t["title"], t["priority"]) for t in top.get_json()] == [("a", "low"), ("b", "low")]
    for bad in ("0", "x", "6", ""):
        answer = client.get(f"{URL}/top?limit={bad}")
        assert answer.status_code == 422, bad
        assert "limit" in answer.get_json()["errors"]["query"]
    assert client.get(f"{URL}/top").status_code == 422


def test_actions_share_the_resources_rate_limit(app: Flask) -> None:
    """RATE_LIMIT counts action calls too: past 5 a minute, a 429 envelope (and documented)."""
    limited_cls = type(
        "LimitedTickets",
        (Tickets,),
        {"RATE_LIMIT": "5/minute", "COLLECTION": f"t_{uuid.uuid4().hex}"},
    )
    blp = Blueprint("limited", __name__, url_prefix="/limited")
    limited_cls.register(blp, name="Limited")
    get_api(app).register_blueprint(blp)
    ticket = _ticket(app, url="/limited")  # POST: counted apart (per client and method)
    client = app.test_client()
    statuses = [client.get(f"/limited/{ticket['id']}/summary").status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 200, 200, 429]
    limited = client.get(f"/limited/{ticket['id']}/summary")
    assert limited.get_json()["code"] == 429
    with app.app_context():
        spec = get_api(app).spec.to_dict()
    summary = spec["paths"]["/limited/{item_id}/summary"]["get"]
    assert "429" in summary["responses"]
    assert "X-RateLimit-Limit" in summary["responses"]["200"]["headers"]


def test_a_registered_subclass_brings_the_actions(app: Flask) -> None:
    """ArchivedTickets (same collection, own blueprint) serves the inherited actions."""
    ticket = _ticket(app, url="/archived")
    client = app.test_client()
    assert client.get(f"/archived/{ticket['id']}/summary").get_json()["priority"] == "high"
    assert client.get(f"/archived/{'0' * 24}/summary").status_code == 404
    statuses = {client.get(f"/archived/{ticket['id']}/summary").status_code for _ in range(8)}
    assert statuses == {200}  # no rate limit on the subclass


def test_the_document_stays_valid_and_names_every_action(app: Flask) -> None:
    """openapi-spec-validator passes; operationIds, 429 on the limited resource only."""
    with app.app_context():
        spec = get_api(app).spec.to_dict()
    validate(spec)
    ops = {
        op["operationId"]: op
        for path in spec["paths"].values()
        for method, op in path.items()
        if method != "parameters"
    }
    assert {"summaryTicket", "freshTicket", "touchTicket", "rawTicket", "topTickets"} <= set(ops)
    assert "429" not in ops["summaryTicket"]["responses"]
    assert (
        ops["topTickets"]["responses"]["200"]["content"]["application/json"]["schema"]["type"]
        == "array"
    )
    assert ops["summaryTicket"]["summary"] == "The stored document through another schema."
    assert "security" not in ops["summaryTicket"]


def test_stored_values_of_other_types_never_crash(
    app: Flask, mongo_client: Any, mongo_db_name: str
) -> None:
    """Written outside the kit: a string in a DateTime field, an int in an Enum field, a string
    in an Integer field, a number in a String field. Read and actions answer 200 with them."""
    ticket = _ticket(app)
    mongo_client[mongo_db_name].tickets.update_one(
        {"_id": ObjectId(ticket["id"])},
        {"$set": {"due": "garbage", "priority": 5, "title": 7, "place": "nowhere"}},
    )
    client = app.test_client()
    read = client.get(f"{URL}/{ticket['id']}")
    assert read.status_code == 200
    assert (read.get_json()["due"], read.get_json()["priority"]) == ("garbage", 5)
    summary = client.get(f"{URL}/{ticket['id']}/summary")
    assert summary.status_code == 200
    assert summary.get_json() == {"title": "7", "priority": 5, "due": "garbage", "place": "nowhere"}
    top = client.get(f"{URL}/top?limit=5")
    assert top.status_code == 200
    assert top.get_json()[0]["due"] == "garbage"


hook_calls: list[tuple[str, Any]] = []


class LegacyHook(Tickets):
    """The pre-issue-21 signature: no keyword is passed, no document is read first."""

    COLLECTION = "legacy_hook"

    def before_update(self, changes: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        hook_calls.append(("legacy", partial))
        return {**changes, "title": changes.get("title", "kept").upper()}


class KeywordHook(Tickets):
    """``**kwargs``: gets the id and the current document."""

    COLLECTION = "keyword_hook"

    def before_update(self, changes: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        hook_calls.append((kwargs["item_id"], kwargs["current"]["title"]))
        return changes


@pytest.fixture
def hook_app(make_kit_app: KitAppFactory, rainbond_env: dict[str, str]) -> Flask:
    app = make_kit_app(rainbond_env)
    for cls, prefix in ((LegacyHook, "/legacy"), (KeywordHook, "/keyword")):
        blp = Blueprint(prefix.strip("/"), __name__, url_prefix=prefix)
        cls.register(blp)
        get_api(app).register_blueprint(blp)
    hook_calls.clear()
    return app


def test_update_hooks_get_what_they_declare(hook_app: Flask) -> None:
    """The legacy hook still transforms PUT/PATCH; a **kwargs hook sees id and current title."""
    client = hook_app.test_client()
    legacy = _ticket(hook_app, url="/legacy")
    patched = client.patch(f"/legacy/{legacy['id']}", json={"title": "new"})
    assert (patched.status_code, patched.get_json()["title"]) == (200, "NEW")
    keyword = _ticket(hook_app, url="/keyword", title="before")
    assert client.patch(f"/keyword/{keyword['id']}", json={"title": "after"}).status_code == 200
    assert hook_calls == [("legacy", True), (keyword["id"], "before")]
    assert client.patch(f"/keyword/{'0' * 24}", json={"title": "x"}).status_code == 404
    assert len(hook_calls) == 2  # the document is read (404) before the hook runs


class Job(ma.Schema):
    title = ma.fields.String(required=True)
    state = ma.fields.String(load_default="new")


def test_batch_updates_follow_the_transitions(rainbond_settings: Settings) -> None:
    """A batch's update of a TRANSITIONS field: legal 200, illegal 409 naming from/to (nothing
    written for it); a **kwargs hook gets the id and the current document in a batch too."""
    calls: list[tuple[str, str]] = []

    def before_update(self: Any, changes: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        calls.append((kwargs["item_id"], kwargs["current"]["state"]))
        return changes

    resource = make_resource(
        Job,
        OPERATIONS=ALL_OPERATIONS | {"batch"},
        TRANSITIONS={"state": {"new": ["running"], "running": ["done"]}},
        before_update=before_update,
    )
    app = serve(rainbond_settings, resource)
    try:
        client = app.test_client()
        a = client.post("/things", json={"title": "a"}).get_json()
        b = client.post("/things", json={"title": "b"}).get_json()
        answer = client.post(
            "/things/batch",
            json={"ordered": False, "operations": [
                {"op": "update", "id": a["id"], "data": {"state": "running"}},
                {"op": "update", "id": b["id"], "data": {"state": "done"}},
            ]},
        )  # fmt: skip
        assert answer.status_code == 207, answer.get_json()
        results = answer.get_json()["results"]
        assert [r["status"] for r in results] == [200, 409]
        assert "cannot change from 'new' to 'done'" in str(results[1])
        assert client.get(f"/things/{b['id']}").get_json()["state"] == "new"
        assert client.get(f"/things/{a['id']}").get_json()["state"] == "running"
        assert sorted(calls) == sorted([(a["id"], "new"), (b["id"], "new")])
    finally:
        RainbondKit.shutdown(app)
