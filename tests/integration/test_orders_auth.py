"""The order service with the auth center on: actions keep the resource's scope and codes.

Users come from the public ``kit_user`` fixture (``rainbond_kit.testing.auth``): no hand-made
tokens, roles or logins here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sample_app import create_app
from sample_app.orders import CENTER_NAME, ORDERS, SHIP

from rainbond_kit import RainbondKit, Settings, get_api
from rainbond_kit.testing import AuthCenter

Headers = dict[str, str]
User = Callable[..., Headers]


@pytest.fixture
def app(rainbond_settings: Settings, kit_auth_center: AuthCenter) -> Iterator[Flask]:
    app = create_app(rainbond_settings, {"TESTING": True}, auth=kit_auth_center.settings)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def admin(app: Flask, kit_user: User) -> Headers:
    """Every code on every permission, every document of the group."""
    return kit_user("admin", codes=[1, 2, 4, 8, 16, SHIP], all_data=True)


def _order(client: FlaskClient, headers: Headers, admin: Headers, quantity: int = 2) -> str:
    customer = client.post("/api/v1/customers", json={"name": "C"}, headers=admin).get_json()
    product = client.post(
        "/api/v1/products", json={"name": "P", "price": "19.99", "stock": 10}, headers=admin
    ).get_json()
    created = client.post(
        "/api/v1/orders",
        json={"customer_id": customer["id"], "items": [{"product_id": product["id"], "quantity": quantity}]},
        headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    return str(created.get_json()["id"])


def test_kit_user_registers_nothing_by_hand(app: Flask, kit_auth_center: AuthCenter) -> None:
    """The app registered its permissions; kit_user grants on exactly those by default."""
    assert (CENTER_NAME, ORDERS) in kit_auth_center.registered()
    assert ("图书中心", "图书管理") in kit_auth_center.registered()


def test_actions_need_a_token(client: FlaskClient, admin: Headers) -> None:
    """No token: 401 on item and collection actions, before any document is loaded."""
    order = _order(client, admin, admin)
    assert client.post(f"/api/v1/orders/{order}/pay", json={"method": "card"}).status_code == 401
    assert client.get("/api/v1/orders/report?day=2026-01-01").status_code == 401
    assert client.post(f"/api/v1/orders/{'0' * 24}/cancel").status_code == 401


def test_user_cannot_act_on_another_users_order(
    client: FlaskClient, admin: Headers, kit_user: User
) -> None:
    """Same group, no all_data: B cannot see, pay or cancel A's order (404); A can pay."""
    alice = kit_user("alice", codes=[1, 2, 4])
    bob = kit_user("bob", codes=[1, 2, 4])
    order = _order(client, alice, admin)
    assert client.get(f"/api/v1/orders/{order}", headers=bob).status_code == 404
    paid = client.post(f"/api/v1/orders/{order}/pay", json={"method": "card"}, headers=bob)
    assert paid.status_code == 404
    assert client.post(f"/api/v1/orders/{order}/cancel", headers=bob).status_code == 404
    assert client.get(f"/api/v1/orders/{order}", headers=alice).get_json()["status"] == "pending"
    mine = client.post(f"/api/v1/orders/{order}/pay", json={"method": "card"}, headers=alice)
    assert mine.status_code == 200
    assert mine.get_json()["status"] == "paid"
    assert mine.get_json()["payment"] == "card"


def test_other_group_is_outside_the_scope(
    client: FlaskClient, admin: Headers, kit_user: User
) -> None:
    """all_data in another group still does not reach the order (404); in the group it does."""
    alice = kit_user("alice", codes=[1, 2, 4], groups=["north"])
    south = kit_user("south", codes=[1, 2, 4], groups=["south"], all_data=True)
    north = kit_user("north", codes=[1, 2, 4], groups=["north"], all_data=True)
    order = _order(client, alice, admin)
    assert client.post(f"/api/v1/orders/{order}/cancel", headers=south).status_code == 404
    done = client.post(f"/api/v1/orders/{order}/cancel", headers=north)
    assert done.status_code == 200
    assert done.get_json()["status"] == "cancelled"


def test_each_action_needs_its_own_code(
    client: FlaskClient, admin: Headers, kit_user: User
) -> None:
    """pay/cancel need 4, ship the component's 32, the report 1: 403 names the code."""
    viewer = kit_user("viewer", codes=[1], all_data=True)
    clerk = kit_user("clerk", codes=[1, 2, 4], all_data=True)
    shipper = kit_user("shipper", codes=[1, SHIP], all_data=True)
    order = _order(client, admin, admin)
    denied = client.post(f"/api/v1/orders/{order}/pay", json={"method": "card"}, headers=viewer)
    assert denied.status_code == 403
    assert denied.get_json()["required_codes"] == [4]
    assert client.post(f"/api/v1/orders/{order}/ship", headers=clerk).get_json()[
        "required_codes"
    ] == [SHIP]
    assert (
        client.post(f"/api/v1/orders/{order}/pay", json={"method": "cash"}, headers=clerk)
    ).status_code == 200
    shipped = client.post(f"/api/v1/orders/{order}/ship", headers=shipper)
    assert shipped.status_code == 200
    assert shipped.get_json()["status"] == "shipped"
    assert client.get("/api/v1/orders/report?day=2026-01-01", headers=viewer).status_code == 200
    no_code = kit_user("nobody", codes=[2], all_data=True)
    assert client.get("/api/v1/orders/report?day=2026-01-01", headers=no_code).get_json()[
        "required_codes"
    ] == [1]


def test_report_counts_only_the_callers_paid_orders(
    client: FlaskClient, admin: Headers, kit_user: User
) -> None:
    """Alice's report: her paid/shipped orders of the day; Bob's and deleted ones never count."""
    alice = kit_user("alice", codes=[1, 2, 4, 8])
    bob = kit_user("bob", codes=[1, 2, 4])
    kept = _order(client, alice, admin, quantity=2)
    deleted = _order(client, alice, admin, quantity=5)
    _order(client, alice, admin, quantity=7)  # pending: not a sale
    other = _order(client, bob, admin, quantity=3)
    for order, who in ((kept, alice), (deleted, alice), (other, bob)):
        assert client.post(f"/api/v1/orders/{order}/pay", json={"method": "card"}, headers=who).status_code == 200  # fmt: skip
    assert client.delete(f"/api/v1/orders/{deleted}", headers=alice).status_code == 204
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    report = client.get(f"/api/v1/orders/report?day={today}", headers=alice)
    assert report.get_json() == {"day": today, "orders": 1, "total": "39.98"}
    everyone = client.get(f"/api/v1/orders/report?day={today}", headers=admin).get_json()
    assert everyone == {"day": today, "orders": 2, "total": "99.95"}
    assert client.get("/api/v1/orders/report?day=nope", headers=alice).status_code == 422


def test_openapi_documents_actions_with_security_and_errors(app: Flask) -> None:
    """Valid document; each action has its operationId, token security, 401/403/404 errors."""
    with app.app_context():
        spec: dict[str, Any] = get_api(app).spec.to_dict()
    validate(spec)
    pay = spec["paths"]["/api/v1/orders/{item_id}/pay"]["post"]
    assert pay["operationId"] == "payOrder"
    assert pay["security"] == [{"token": []}]
    assert {"401", "403", "404", "409", "412", "415", "422"} <= set(pay["responses"])
    assert pay["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Pay"
    }
    report = spec["paths"]["/api/v1/orders/report"]["get"]
    assert report["operationId"] == "reportOrders"
    assert report["security"] == [{"token": []}]
    assert {"401", "403"} <= set(report["responses"])
    assert "404" not in report["responses"]
    assert [p["name"] for p in report["parameters"]] == ["day"]
    reserve = spec["paths"]["/api/v1/products/{item_id}/reserve"]["post"]
    assert reserve["operationId"] == "reserveProduct"
    status = spec["components"]["schemas"]["Order"]["properties"]["status"]
    assert status["enum"] == ["pending", "paid", "shipped", "cancelled"]
