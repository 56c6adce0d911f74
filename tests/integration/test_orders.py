"""The order service over HTTP: actions, TRANSITIONS on actions and PATCH/PUT, atomic stock.

The sample app (auth off) from ``conftest.py``; the concurrency tests run real threads against
the app (one test client each) and a real MongoDB wire server, and assert exact final states.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sample_app.orders import Orders

from tests.integration.auth_support import run_together

ORDERS = "/api/v1/orders"


def _product(client: FlaskClient, stock: int = 10, price: str = "2.50") -> dict[str, Any]:
    created = client.post("/api/v1/products", json={"name": "P", "price": price, "stock": stock})
    assert created.status_code == 201
    return dict(created.get_json())


def _order(client: FlaskClient, *lines: tuple[str, int]) -> dict[str, Any]:
    customer = client.post("/api/v1/customers", json={"name": "C"}).get_json()
    if not lines:
        lines = ((_product(client)["id"], 2),)
    created = client.post(
        ORDERS,
        json={"customer_id": customer["id"],
              "items": [{"product_id": p, "quantity": q} for p, q in lines]},
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    return dict(created.get_json())


def _race(app: Flask, *requests: tuple[str, str, dict[str, Any] | None]) -> list[int]:
    """Send ``(method, url, body)`` requests at once, one thread and client each; sorted statuses."""
    statuses: list[int] = []
    lock = threading.Lock()

    def send(method: str, url: str, body: dict[str, Any] | None) -> None:
        answer = getattr(app.test_client(), method)(url, json=body)
        with lock:
            statuses.append(answer.status_code)

    run_together(*[functools.partial(send, *request) for request in requests])
    return sorted(statuses)


def test_order_prices_come_from_products_and_status_starts_pending(client: FlaskClient) -> None:
    """A client's status is ignored: lines get the product's price, the total is exact."""
    a, b = _product(client, price="19.99"), _product(client, price="0.05")
    customer = client.post("/api/v1/customers", json={"name": "C"}).get_json()
    created = client.post(
        ORDERS,
        json={"customer_id": customer["id"], "status": "shipped",
              "items": [{"product_id": a["id"], "quantity": 3},
                        {"product_id": b["id"], "quantity": 1}]},
    ).get_json()  # fmt: skip
    assert created["status"] == "pending"
    assert [line["price"] for line in created["items"]] == ["19.99", "0.05"]
    assert created["total"] == "60.02"  # 3 x 19.99 + 0.05, exactly
    assert a["price"] == "19.99"


def test_unknown_references_are_422_naming_the_field(client: FlaskClient) -> None:
    """An unknown customer, an unknown or deleted product: 422 naming it; nothing stored."""
    product = _product(client)
    customer = client.post("/api/v1/customers", json={"name": "C"}).get_json()
    bad_customer = client.post(
        ORDERS,
        json={"customer_id": "0" * 24, "items": [{"product_id": product["id"], "quantity": 1}]},
    )
    assert bad_customer.status_code == 422
    assert bad_customer.get_json()["errors"]["json"] == {
        "customer_id": ["customer_id: no such document"]
    }
    assert client.delete(f"/api/v1/products/{product['id']}").status_code == 204
    deleted = client.post(
        ORDERS,
        json={
            "customer_id": customer["id"],
            "items": [{"product_id": product["id"], "quantity": 1}],
        },
    )
    assert deleted.status_code == 422  # a soft-deleted product is no reference
    bad_product = client.post(
        ORDERS,
        json={"customer_id": customer["id"],
              "items": [{"product_id": product["id"], "quantity": 1},
                        {"product_id": "1" * 24, "quantity": 1}]},
    )  # fmt: skip
    assert bad_product.status_code == 422, bad_product.get_json()
    assert bad_product.get_json()["errors"]["json"] == {
        "items.product_id": ["items.product_id: no such document"]
    }
    assert client.get(ORDERS).get_json()["total"] == 0


def test_actions_follow_the_transitions(client: FlaskClient) -> None:
    """pending -> paid -> shipped is legal; ship before pay, pay twice, cancel a paid: 409."""
    order = _order(client)["id"]
    early = client.post(f"{ORDERS}/{order}/ship")
    assert early.status_code == 409
    body = early.get_json()
    assert (body["field"], body["from"], body["to"]) == ("status", "pending", "shipped")
    assert body["message"] == "status cannot change from 'pending' to 'shipped'"
    paid = client.post(f"{ORDERS}/{order}/pay", json={"method": "card"})
    assert paid.status_code == 200
    assert paid.get_json()["status"] == "paid"
    assert paid.headers["ETag"] == '"1"'
    again = client.post(f"{ORDERS}/{order}/pay", json={"method": "cash"})
    assert again.status_code == 409
    assert again.get_json()["from"] == "paid"
    assert client.post(f"{ORDERS}/{order}/cancel").status_code == 409
    assert client.post(f"{ORDERS}/{order}/ship").get_json()["status"] == "shipped"
    stored = client.get(f"{ORDERS}/{order}").get_json()
    assert (stored["status"], stored["payment"]) == ("shipped", "card")


def test_transition_message_is_translated(client: FlaskClient) -> None:
    """The 409 goes through the i18n catalog (zh-CN), values kept."""
    order = _order(client)["id"]
    answer = client.post(f"{ORDERS}/{order}/ship", headers={"Accept-Language": "zh-CN"})
    assert answer.get_json()["message"] == "status 不能从 'pending' 变为 'shipped'"


@pytest.mark.parametrize("method", ["patch", "put"])
def test_patch_and_put_follow_the_transitions(client: FlaskClient, method: str) -> None:
    """PATCH/PUT of status: illegal -> 409 with nothing written; legal -> 200."""
    order = _order(client)["id"]
    body = {"note": "leave at the door"}
    send = getattr(client, method)
    illegal = send(f"{ORDERS}/{order}", json={**body, "status": "shipped"})
    assert illegal.status_code == 409
    assert (illegal.get_json()["from"], illegal.get_json()["to"]) == ("pending", "shipped")
    assert client.get(f"{ORDERS}/{order}").get_json()["status"] == "pending"
    legal = send(f"{ORDERS}/{order}", json={**body, "status": "cancelled"})
    assert legal.status_code == 200
    assert legal.get_json()["status"] == "cancelled"
    assert send(f"{ORDERS}/{order}", json={**body, "status": "pending"}).status_code == 409
    unchanged = send(f"{ORDERS}/{order}", json={**body, "status": "cancelled"})
    assert unchanged.status_code == 200  # not a transition: the same value


def test_stale_if_match_on_an_action_is_412(client: FlaskClient) -> None:
    """ETag resource: If-Match of an older version -> 412, nothing written; current -> 200."""
    created = client.post(
        ORDERS,
        json={"customer_id": client.post("/api/v1/customers", json={"name": "C"}).get_json()["id"],
              "items": [{"product_id": _product(client)["id"], "quantity": 1}]},
    )  # fmt: skip
    order, etag = created.get_json()["id"], created.headers["ETag"]
    patched = client.patch(f"{ORDERS}/{order}", json={"note": "ring twice"})
    assert patched.status_code == 200
    stale = client.post(
        f"{ORDERS}/{order}/pay", json={"method": "card"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert client.get(f"{ORDERS}/{order}").get_json()["status"] == "pending"
    current = client.get(f"{ORDERS}/{order}").headers["ETag"]
    ok = client.post(
        f"{ORDERS}/{order}/pay", json={"method": "card"}, headers={"If-Match": current}
    )
    assert ok.status_code == 200


def test_hostile_action_requests_get_envelopes(client: FlaskClient) -> None:
    """Bad id 400, unknown id 404, deleted 404, bad body 422, non-JSON 415, wrong method 405."""
    order = _order(client)["id"]
    assert client.post(f"{ORDERS}/nope/pay", json={"method": "card"}).status_code == 400
    assert client.post(f"{ORDERS}/{'0' * 24}/pay", json={"method": "card"}).status_code == 404
    bad = client.post(f"{ORDERS}/{order}/pay", json={"method": "iou"})
    assert bad.status_code == 422
    assert "method" in bad.get_json()["errors"]["json"]
    assert client.post(f"{ORDERS}/{order}/pay", json=["card"]).status_code == 422
    text = client.post(f"{ORDERS}/{order}/pay", data="method=card", content_type="text/plain")
    assert text.status_code == 415
    assert client.get(f"{ORDERS}/{order}/pay").status_code == 405
    assert client.get(f"{ORDERS}/{order}").get_json()["status"] == "pending"
    assert client.delete(f"{ORDERS}/{order}").status_code == 204
    gone = client.post(f"{ORDERS}/{order}/pay", json={"method": "card"})
    assert gone.status_code == 404
    assert set(gone.get_json()) >= {"code", "message", "server_time"}


def test_concurrent_pay_and_cancel_one_wins(app: Flask) -> None:
    """pay and cancel at once, many times: exactly one succeeds; the loser is 409 or 412."""
    client = app.test_client()
    for _ in range(5):
        order = _order(client)["id"]
        first, second = _race(
            app,
            ("post", f"{ORDERS}/{order}/pay", {"method": "card"}),
            ("post", f"{ORDERS}/{order}/cancel", None),
        )
        assert first == 200
        assert second in (409, 412)
        final = client.get(f"{ORDERS}/{order}").get_json()["status"]
        assert final in ("paid", "cancelled")


def test_twenty_concurrent_reservations_never_oversell(app: Flask) -> None:
    """Stock 15, 20 threads reserving 1 each: exactly 15 succeed, 5 get 409, stock ends at 0."""
    product = _product(app.test_client(), stock=15)
    answers: list[int] = []
    lock = threading.Lock()

    def reserve() -> None:
        answer = app.test_client().post(
            f"/api/v1/products/{product['id']}/reserve", json={"quantity": 1}
        )
        with lock:
            answers.append(answer.status_code)

    run_together(*[reserve] * 20)
    assert Counter(answers) == {200: 15, 409: 5}
    assert app.test_client().get(f"/api/v1/products/{product['id']}").get_json()["stock"] == 0


def test_mixed_concurrent_reservations_stay_exact(app: Flask) -> None:
    """Quantities 1..20 against stock 100: what succeeds sums to the stock taken, never more."""
    product = _product(app.test_client(), stock=100)
    taken: list[int] = []
    lock = threading.Lock()

    def reserve(quantity: int) -> None:
        answer = app.test_client().post(
            f"/api/v1/products/{product['id']}/reserve", json={"quantity": quantity}
        )
        assert answer.status_code in (200, 409)
        if answer.status_code == 200:
            with lock:
                taken.append(quantity)

    run_together(*[lambda q=q: reserve(q) for q in range(1, 21)])
    left = app.test_client().get(f"/api/v1/products/{product['id']}").get_json()["stock"]
    assert left == 100 - sum(taken)
    assert left >= 0
    assert sum(taken) > 0


def test_reserve_refuses_hostile_quantities(client: FlaskClient) -> None:
    """0, negative, a string, a float, a huge number: 422, stock unchanged."""
    product = _product(client, stock=3)
    for quantity in (0, -5, "2", 1.5, 10**30):
        answer = client.post(
            f"/api/v1/products/{product['id']}/reserve", json={"quantity": quantity}
        )
        assert answer.status_code in (400, 422), quantity
    assert client.get(f"/api/v1/products/{product['id']}").get_json()["stock"] == 3


def test_a_subclass_reuses_read_item_without_registering(app: Flask, client: FlaskClient) -> None:
    """An unregistered subclass of a resource reads a document through read_item()."""

    class Audit(Orders):
        pass

    order = _order(client)
    with app.test_request_context():
        read = Audit().read_item(order["id"])
    assert {k: v for k, v in read.items() if k != "_version"} == order


def test_update_hook_sees_the_current_document(client: FlaskClient) -> None:
    """before_update(..., current=): a cancelled order's note is frozen (409); status too."""
    order = _order(client)["id"]
    assert client.patch(f"{ORDERS}/{order}", json={"note": "a"}).status_code == 200
    assert client.post(f"{ORDERS}/{order}/cancel").status_code == 200
    frozen = client.patch(f"{ORDERS}/{order}", json={"note": "b"})
    assert frozen.status_code == 409
    assert frozen.get_json()["field"] == "note"
    assert client.patch(f"{ORDERS}/{order}", json={"note": "a"}).status_code == 200  # unchanged
    assert client.get(f"{ORDERS}/{order}").get_json()["note"] == "a"


def test_lines_cannot_be_patched(client: FlaskClient) -> None:
    """Lines and prices are fixed after creation: PATCH of items is a 422, nothing changed."""
    order = _order(client)
    answer = client.patch(f"{ORDERS}/{order['id']}", json={"items": []})
    assert answer.status_code == 422
    assert client.get(f"{ORDERS}/{order['id']}").get_json()["items"] == order["items"]


def test_concurrent_patches_of_status_lose_no_update(app: Flask) -> None:
    """PATCH paid and PATCH cancelled at once: one 200, the other 409/412; one final state."""
    client = app.test_client()
    for _ in range(5):
        order = _order(client)["id"]
        first, second = _race(
            app,
            ("patch", f"{ORDERS}/{order}", {"status": "paid"}),
            ("patch", f"{ORDERS}/{order}", {"status": "cancelled"}),
        )
        assert first == 200
        assert second in (409, 412)
        final = client.get(f"{ORDERS}/{order}").get_json()
        assert final["status"] in ("paid", "cancelled")
        assert final["update_time"] >= final["creation_time"]


def test_money_is_exact_and_references_expand(client: FlaskClient) -> None:
    """0.10 x 3 is 0.30 (not 0.30000000000000004); $expand brings the customer and products."""
    dime = _product(client, price="0.10")
    order = _order(client, (dime["id"], 3))
    assert order["total"] == "0.30"
    expanded = client.get(f"{ORDERS}/{order['id']}?$expand=customer_id,items.product_id").get_json()
    assert expanded["customer_id"]["name"] == "C"
    assert expanded["items"][0]["product_id"]["id"] == dime["id"]
    assert expanded["items"][0]["product_id"]["price"] == "0.10"
    assert client.get(f"{ORDERS}?$expand=nope").status_code == 400


def test_an_action_retried_with_its_idempotency_key_runs_once(client: FlaskClient) -> None:
    """POST /products/<id>/reserve twice with one Idempotency-Key takes the stock once and
    replays the first answer; the key with another body is a 422 and takes nothing; the
    OpenAPI document offers the header on POST actions, not on GET ones."""
    import uuid

    product = _product(client, stock=10)
    url = f"/api/v1/products/{product['id']}/reserve"
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = client.post(url, json={"quantity": 3}, headers=headers)
    again = client.post(url, json={"quantity": 3}, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200), first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert client.get(f"/api/v1/products/{product['id']}").get_json()["stock"] == 7
    other = client.post(url, json={"quantity": 4}, headers=headers)
    assert other.status_code == 422, other.get_json()
    assert client.get(f"/api/v1/products/{product['id']}").get_json()["stock"] == 7
    paths = client.get("/openapi.json").get_json()["paths"]
    reserve = paths["/api/v1/products/{item_id}/reserve"]["post"]
    assert "Idempotency-Key" in [p.get("name") for p in reserve["parameters"]]
    assert "Idempotent-Replayed" in reserve["responses"]["200"]["headers"]
    report = paths["/api/v1/orders/report"]["get"]
    assert "Idempotency-Key" not in [p.get("name") for p in report.get("parameters", [])]
