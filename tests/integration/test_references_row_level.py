"""References, ``$expand`` and reports with the auth center on: row-level rules of several users
in several groups decide what a reference may name, what expands and what a report counts."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_smorest import Blueprint

from rainbond_kit import RainbondKit, Settings, get_api
from rainbond_kit.auth import AuthSettings, init_auth
from rainbond_kit.resource import ResourceView
from tests.integration.auth_support import (  # noqa: F401 - fixture
    CENTER,
    PERM,
    AuthCenter,
    auth_center_fixture,
    unique_name,
)

CUSTOMERS = "客户管理"


class CustomerSchema(ma.Schema):
    name = ma.fields.String(required=True)


class Customers(ResourceView):
    COLLECTION = "customers"
    SCHEMA = CustomerSchema
    PERMISSION = (CENTER, CUSTOMERS)
    ROW_LEVEL_FIELD = "creator"


class OrderSchema(ma.Schema):
    customer_id = ma.fields.String(required=True)
    amount = ma.fields.Decimal(required=True, as_string=True)


class Orders(ResourceView):
    COLLECTION = "orders"
    SCHEMA = OrderSchema
    PERMISSION = (CENTER, PERM)
    ROW_LEVEL_FIELD = "creator"
    REFERENCES = {"customer_id": Customers}  # noqa: RUF012


@pytest.fixture
def app(rainbond_settings: Settings, auth_center: AuthCenter) -> Iterator[Flask]:
    app = Flask("row_level_references")
    app.config["TESTING"] = True
    RainbondKit(app, settings=rainbond_settings, wire=[sys.modules[__name__]])
    init_auth(app, AuthSettings.from_env(auth_center.env))
    api = get_api(app)
    for cls, prefix in ((Customers, "customers"), (Orders, "orders")):
        blp = Blueprint(prefix, __name__, url_prefix=f"/{prefix}")
        cls.register(blp)
        api.register_blueprint(blp)
    reports = Blueprint("reports", __name__, url_prefix="/reports")

    @reports.route("/total")
    def total() -> Any:
        rows = Orders().aggregate([{"$group": {"_id": None, "sum": {"$sum": "$amount"}}}])
        return {"total": rows[0]["sum"] if rows else "0"}

    api.register_blueprint(reports)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _user(
    center: AuthCenter, groups: list[str], *, all_data: bool, customers: list[int] | None
) -> dict[str, str]:
    """A user with orders codes 1+2+4+8 and, unless ``customers`` is None, those customer
    codes (with the same ``is_all_data``)."""
    role = unique_name()
    center.add_role(role, [1, 2, 4, 8], all_data=all_data)
    if customers is not None:
        center.db.role.insert_one(
            {
                "role_name": role,
                "center_name": CENTER,
                "permission_name": CUSTOMERS,
                "permission_status": customers,
                "is_all_data": all_data,
            }
        )
    return {"token": center.login(center.add_user([role], groups), unique_name())}


@pytest.fixture
def people(auth_center: AuthCenter) -> dict[str, dict[str, str]]:
    return {
        "ann": _user(auth_center, ["g1"], all_data=False, customers=[1, 2]),
        "boss": _user(auth_center, ["g1"], all_data=True, customers=[1, 2]),
        "eve": _user(auth_center, ["g2"], all_data=True, customers=[1, 2]),
        # all data of g1 for customers, but without their view code (1)
        "blind": _user(auth_center, ["g1"], all_data=True, customers=[2]),
    }


def _post(client: FlaskClient, url: str, body: dict[str, Any], who: dict[str, str]) -> Any:
    return client.post(url, json=body, headers=who)


def test_references_follow_each_users_row_level_rules(
    client: FlaskClient, people: dict[str, dict[str, str]]
) -> None:
    """Ann (own rows only) may reference her customer, not her colleague's; her boss (all data
    of g1) may reference both; Eve (g2) neither; a user without the customers view code none."""
    ann_c = _post(client, "/customers", {"name": "A"}, people["ann"]).get_json()["id"]
    boss_c = _post(client, "/customers", {"name": "B"}, people["boss"]).get_json()["id"]

    def order(who: str, customer: str) -> int:
        body = {"customer_id": customer, "amount": "1.00"}
        status: int = _post(client, "/orders", body, people[who]).status_code
        return status

    assert order("ann", ann_c) == 201
    assert order("ann", boss_c) == 422
    assert order("boss", ann_c) == 201
    assert order("boss", boss_c) == 201
    assert order("eve", ann_c) == 422
    assert order("blind", ann_c) == 422


def test_expand_shows_only_what_the_reader_may_see(
    client: FlaskClient, people: dict[str, dict[str, str]]
) -> None:
    """The boss expands Ann's customer; a user without the customers view code sees ids."""
    ann_c = _post(client, "/customers", {"name": "A"}, people["ann"]).get_json()["id"]
    made = _post(client, "/orders", {"customer_id": ann_c, "amount": "2.50"}, people["ann"])
    assert made.status_code == 201
    query = {"$expand": "customer_id"}
    boss = client.get("/orders", query_string=query, headers=people["boss"]).get_json()
    assert boss["items"][0]["customer_id"]["name"] == "A"
    blind = client.get("/orders", query_string=query, headers=people["blind"]).get_json()
    assert blind["items"][0]["customer_id"] == ann_c


def test_report_totals_follow_row_level_rules(
    client: FlaskClient, people: dict[str, dict[str, str]]
) -> None:
    """Exact totals: Ann's own orders, the boss's whole group, Eve's group; deleted excluded."""
    customers = {
        who: _post(client, "/customers", {"name": who}, people[who]).get_json()["id"]
        for who in ("ann", "boss", "eve")
    }
    for who, amount in (("ann", "0.10"), ("ann", "0.20"), ("boss", "5.00"), ("eve", "9.99")):
        body = {"customer_id": customers[who], "amount": amount}
        assert _post(client, "/orders", body, people[who]).status_code == 201
    body = {"customer_id": customers["ann"], "amount": "1000"}
    gone = _post(client, "/orders", body, people["ann"]).get_json()["id"]

    def totals() -> dict[str, str]:
        return {
            who: client.get("/reports/total", headers=people[who]).get_json()["total"]
            for who in ("ann", "boss", "eve")
        }

    assert totals() == {"ann": "1000.30", "boss": "1005.30", "eve": "9.99"}
    assert client.delete(f"/orders/{gone}", headers=people["ann"]).status_code == 204
    assert totals() == {"ann": "0.30", "boss": "5.30", "eve": "9.99"}
