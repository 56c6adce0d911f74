"""References over HTTP: existence in the caller's scope on write (422 naming the field, the
same for missing, deleted and foreign documents), batched and scope-checked ``$expand``, and a
report through ``ResourceView.aggregate`` that never counts deleted or foreign orders."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from bson import ObjectId
from flask import Flask, request
from flask.testing import FlaskClient
from flask_smorest import Blueprint
from openapi_spec_validator import validate

from rainbond_kit import RainbondKit, Settings, get_api, get_container
from rainbond_kit.data.repository import MongoRepository
from rainbond_kit.resource import ResourceView
from rainbond_kit.resource.view import ALL_OPERATIONS


def _tenant_scope() -> Mapping[str, Any] | None:
    tenant = request.headers.get("X-Tenant")
    return {"tenant": tenant} if tenant else None


class CustomerSchema(ma.Schema):
    name = ma.fields.String(required=True)
    code = ma.fields.String(load_only=True)


class Customers(ResourceView):
    """Customers, one tenant each (the tenant comes from a header: several callers)."""

    COLLECTION = "customers"
    SCHEMA = CustomerSchema
    INDEXES = (pymongo.IndexModel([("code", 1)], unique=True, sparse=True, name="code_unique"),)

    def scope_filter(self) -> Mapping[str, Any] | None:
        return _tenant_scope()


class ProductSchema(ma.Schema):
    name = ma.fields.String(required=True)
    price = ma.fields.Decimal(required=True)


class Products(ResourceView):
    COLLECTION = "products"
    SCHEMA = ProductSchema
    INDEXES = (
        pymongo.IndexModel([("name", 1), ("remove_time", 1)], unique=True, name="name_live"),
    )


class LineSchema(ma.Schema):
    product_id = ma.fields.String(required=True)
    qty = ma.fields.Integer(required=True)


class OrderSchema(ma.Schema):
    customer_id = ma.fields.String(required=True, data_key="customer")
    items = ma.fields.List(ma.fields.Nested(LineSchema), load_default=list)
    amount = ma.fields.Decimal(required=True)
    status = ma.fields.String(load_default="pending")


class Orders(ResourceView):
    COLLECTION = "orders"
    SCHEMA = OrderSchema
    REFERENCES = {"customer_id": Customers, "items.product_id": Products}  # noqa: RUF012
    ETAG = True
    OPERATIONS = ALL_OPERATIONS | {"batch"}

    def scope_filter(self) -> Mapping[str, Any] | None:
        return _tenant_scope()


@pytest.fixture
def app(rainbond_settings: Settings) -> Iterator[Flask]:
    app = Flask("references")
    app.config["TESTING"] = True
    RainbondKit(app, settings=rainbond_settings, wire=[sys.modules[__name__]])
    api = get_api(app)
    for cls, prefix in ((Customers, "customers"), (Products, "products"), (Orders, "orders")):
        blp = Blueprint(prefix, __name__, url_prefix=f"/{prefix}")
        cls.register(blp)
        api.register_blueprint(blp)
    reports = Blueprint("reports", __name__, url_prefix="/reports")

    @reports.route("/sales")
    def sales() -> Any:
        rows = Orders().aggregate(
            [{"$group": {"_id": "$status", "total": {"$sum": "$amount"}, "n": {"$sum": 1}}}]
        )
        return {row["id"]: {"total": row["total"], "n": row["n"]} for row in rows}

    api.register_blueprint(reports)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


ACME = {"X-Tenant": "acme"}
GLOBEX = {"X-Tenant": "globex"}


def _create(client: FlaskClient, url: str, body: dict[str, Any], headers: Any = None) -> str:
    response = client.post(url, json=body, headers=headers or {})
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


@pytest.fixture
def world(client: FlaskClient) -> dict[str, str]:
    """Two tenants' customers, a deleted customer, two products."""
    ids = {
        "mine": _create(client, "/customers", {"name": "Ann"}, ACME),
        "mine2": _create(client, "/customers", {"name": "Bob"}, ACME),
        "theirs": _create(client, "/customers", {"name": "Eve"}, GLOBEX),
        "gone": _create(client, "/customers", {"name": "Old"}, ACME),
        "pen": _create(client, "/products", {"name": "pen", "price": "1.10"}),
        "ink": _create(client, "/products", {"name": "ink", "price": "2.25"}),
    }
    assert client.delete(f"/customers/{ids['gone']}", headers=ACME).status_code == 204
    return ids


def _order(customer: str, *products: str, amount: str = "1.00") -> dict[str, Any]:
    return {
        "customer": customer,
        "items": [{"product_id": p, "qty": 1} for p in products],
        "amount": amount,
    }


def test_a_reference_in_the_callers_scope_is_accepted(
    client: FlaskClient, world: dict[str, str]
) -> None:
    """Control: a live customer of the caller's tenant and live products are accepted."""
    order = client.post("/orders", json=_order(world["mine"], world["pen"]), headers=ACME)
    assert order.status_code == 201, order.get_json()
    assert order.get_json()["customer"] == world["mine"]


@pytest.mark.parametrize("which", ["theirs", "gone", "missing", "not-an-id"])
def test_foreign_deleted_missing_and_malformed_references_are_one_422(
    client: FlaskClient, world: dict[str, str], which: str
) -> None:
    """Another tenant's, a soft-deleted, a nonexistent customer and a malformed id all get the
    same 422 naming the field (by its documented name): nothing says which one it was."""
    customer = {"missing": str(ObjectId()), "not-an-id": "nope"}.get(which, world.get(which, ""))
    response = client.post("/orders", json=_order(customer, world["pen"]), headers=ACME)
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"] == {"json": {"customer": ["customer: no such document"]}}
    assert body["message"] == "customer: no such document"
    assert client.get("/orders", headers=ACME).get_json()["total"] == 0


def test_each_line_items_reference_is_checked(client: FlaskClient, world: dict[str, str]) -> None:
    """One bad product among the line items is a 422 naming ``items.product_id``."""
    bad = _order(world["mine"], world["pen"], str(ObjectId()), world["ink"])
    response = client.post("/orders", json=bad, headers=ACME)
    assert response.status_code == 422
    assert "items.product_id" in response.get_json()["errors"]["json"]


def test_put_and_patch_check_references_too(client: FlaskClient, world: dict[str, str]) -> None:
    """A PATCH moving the order to another tenant's customer is a 422 and changes nothing;
    a PATCH not touching references, and one to another own customer, pass."""
    order_id = _create(client, "/orders", _order(world["mine"], world["pen"]), ACME)
    url = f"/orders/{order_id}"
    moved = client.patch(url, json={"customer": world["theirs"]}, headers=ACME)
    assert moved.status_code == 422
    assert client.get(url, headers=ACME).get_json()["customer"] == world["mine"]
    assert client.patch(url, json={"status": "paid"}, headers=ACME).status_code == 200
    ok = client.patch(url, json={"customer": world["mine2"]}, headers=ACME)
    assert ok.status_code == 200
    replaced = client.put(url, json=_order(world["gone"], world["pen"]), headers=ACME)
    assert replaced.status_code == 422


def _count_finds(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls: dict[str, int] = {}
    original = MongoRepository.find

    def counting(self: MongoRepository, *args: Any, **kwargs: Any) -> Any:
        calls[self.collection.name] = calls.get(self.collection.name, 0) + 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MongoRepository, "find", counting)
    return calls


def test_expand_is_one_query_per_field_and_scope_checked(
    client: FlaskClient, world: dict[str, str], app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``$expand=customer,items.product_id`` over a page of 6 orders costs one customers query
    and one products query; a customer later deleted or moved to another tenant stays an id."""
    for i in range(6):
        customer = world["mine"] if i % 2 else world["mine2"]
        _create(client, "/orders", _order(customer, world["pen"], world["ink"]), ACME)
    db = get_container(app).mongo_db()
    db["customers"].update_one({"_id": ObjectId(world["mine2"])}, {"$set": {"tenant": "globex"}})
    calls = _count_finds(monkeypatch)
    response = client.get(
        "/orders",
        query_string={"$expand": "customer,items.product_id", "$limit": 10},
        headers=ACME,
    )
    assert response.status_code == 200, response.get_json()
    assert calls == {"customers": 1, "products": 1}
    items = response.get_json()["items"]
    assert len(items) == 6
    for item in items:
        customer = item["customer"]
        if isinstance(customer, dict):
            assert customer["id"] == world["mine"]
            assert customer["name"] == "Ann"
            assert "code" not in customer  # the customer's own output schema (load_only)
            assert "tenant" not in customer
        else:
            assert customer == world["mine2"]  # now another tenant's: not expanded
        assert [line["product_id"]["name"] for line in item["items"]] == ["pen", "ink"]
        assert item["items"][0]["product_id"]["price"] == 1.1
    assert '"price": 1.10' in response.get_data(as_text=True)  # exact decimals in expansions


def test_expand_on_read_and_search_and_unknown_names(
    client: FlaskClient, world: dict[str, str]
) -> None:
    """``$expand`` works on a read and on ``/search``; an undeclared name is a 400."""
    order_id = _create(client, "/orders", _order(world["mine"]), ACME)
    read = client.get(f"/orders/{order_id}", query_string={"$expand": "customer"}, headers=ACME)
    assert read.get_json()["customer"]["name"] == "Ann"
    plain = client.get(f"/orders/{order_id}", headers=ACME)
    assert plain.get_json()["customer"] == world["mine"]
    search = client.post("/orders/search", json={"$expand": "customer"}, headers=ACME)
    assert search.get_json()["items"][0]["customer"]["name"] == "Ann"
    for url in ("/orders", f"/orders/{order_id}"):
        bad = client.get(url, query_string={"$expand": "status"}, headers=ACME)
        assert bad.status_code == 400
        assert "$expand" in bad.get_json()["errors"]
    assert client.get("/customers", query_string={"$expand": "x"}).status_code == 400


def test_openapi_documents_expand_and_stays_valid(client: FlaskClient) -> None:
    """``$expand`` is a documented parameter of list and read where references exist."""
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    listed = {p["name"] for p in spec["paths"]["/orders"]["get"]["parameters"]}
    read = {p["name"] for p in spec["paths"]["/orders/{item_id}"]["get"]["parameters"]}
    assert "$expand" in listed
    assert "$expand" in read
    assert "$expand" not in {p["name"] for p in spec["paths"]["/customers"]["get"]["parameters"]}


def test_report_counts_only_live_orders_in_the_callers_scope(
    client: FlaskClient, world: dict[str, str]
) -> None:
    """``self.aggregate()`` puts the scope and the live condition first: exact per-tenant sums
    with another tenant's orders and soft-deleted ones left out."""
    for amount in ("10.10", "0.20", "5.00"):
        _create(client, "/orders", _order(world["mine"], amount=amount), ACME)
    deleted = _create(client, "/orders", _order(world["mine"], amount="1000"), ACME)
    assert client.delete(f"/orders/{deleted}", headers=ACME).status_code == 204
    paid = _create(client, "/orders", _order(world["mine"], amount="0.01"), ACME)
    client.patch(f"/orders/{paid}", json={"status": "paid"}, headers=ACME)
    _create(client, "/orders", _order(world["theirs"], amount="77.77"), GLOBEX)
    acme = client.get("/reports/sales", headers=ACME).get_json()
    assert acme == {"pending": {"total": "15.30", "n": 3}, "paid": {"total": "0.01", "n": 1}}
    globex = client.get("/reports/sales", headers=GLOBEX).get_json()
    assert globex == {"pending": {"total": "77.77", "n": 1}}
    assert Decimal(acme["pending"]["total"]) == Decimal("10.10") + Decimal("0.20") + Decimal("5")


def test_duplicate_of_a_write_only_field_names_it_without_its_value(
    client: FlaskClient,
) -> None:
    """A unique index on a load_only field: the 409 names ``code`` but never shows a value the
    caller cannot read."""
    assert client.post("/customers", json={"name": "a", "code": "C-1"}).status_code == 201
    dup = client.post("/customers", json={"name": "b", "code": "C-1"})
    assert dup.status_code == 409
    body = dup.get_json()
    assert body["errors"] == {"code": ["already exists"]}
    assert "duplicate" not in body
    assert "C-1" not in dup.get_data(as_text=True)


def test_reference_errors_are_translated(client: FlaskClient, world: dict[str, str]) -> None:
    """The 422 and the 409 speak the caller's language (zh-CN), the field names unchanged."""
    zh = {**ACME, "Accept-Language": "zh-CN"}
    bad = client.post("/orders", json=_order(world["theirs"]), headers=zh)
    assert bad.get_json()["message"] == "customer：没有这个文档"
    assert client.post("/customers", json={"name": "a", "code": "Z"}).status_code == 201
    dup = client.post("/customers", json={"name": "b", "code": "Z"}, headers=zh)
    assert dup.get_json()["message"] == "已存在具有相同 code 的文档"
    assert dup.get_json()["errors"] == {"code": ["已存在"]}


def test_a_read_with_expand_is_never_a_304(client: FlaskClient, world: dict[str, str]) -> None:
    """The ETag versions the order, not the customer it expands to: If-None-Match with the
    current ETag is a 304 on a plain read and a full 200 with ``$expand``."""
    created = client.post("/orders", json=_order(world["mine"]), headers=ACME)
    url, etag = f"/orders/{created.get_json()['id']}", created.headers["ETag"]
    headers = {**ACME, "If-None-Match": etag}
    assert client.get(url, headers=headers).status_code == 304
    expanded = client.get(url, query_string={"$expand": "customer"}, headers=headers)
    assert expanded.status_code == 200
    assert expanded.get_json()["customer"]["name"] == "Ann"


def test_a_soft_deleted_document_does_not_block_recreating_a_unique_value(
    client: FlaskClient,
) -> None:
    """Products' unique (name, remove_time) index: a deleted "pen" lets a new "pen" in; a
    second live "pen" is a 409 naming ``name`` only (never the deletion marker)."""
    first = _create(client, "/products", {"name": "pen", "price": "1"})
    assert client.delete(f"/products/{first}").status_code == 204
    _create(client, "/products", {"name": "pen", "price": "2"})
    dup = client.post("/products", json={"name": "pen", "price": "3"})
    assert dup.status_code == 409
    assert dup.get_json()["errors"] == {"name": ["already exists"]}
    assert dup.get_json()["duplicate"] == {"name": "pen"}


def test_a_batch_checks_each_operations_references(
    client: FlaskClient, world: dict[str, str]
) -> None:
    """The batch is no way around references: a create naming another tenant's customer and
    an update moving an order to a deleted one fail alone with the single write's 422; the
    valid operations are written."""
    order_id = _create(client, "/orders", _order(world["mine"], world["pen"]), ACME)
    response = client.post(
        "/orders/batch",
        json={
            "ordered": False,
            "operations": [
                {"op": "create", "data": _order(world["mine2"], world["ink"])},
                {"op": "create", "data": _order(world["theirs"], world["pen"])},
                {"op": "update", "id": order_id, "data": {"customer": world["gone"]}},
                {"op": "create", "data": _order(world["mine"], str(ObjectId()))},
            ],
        },
        headers=ACME,
    )
    assert response.status_code == 207, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 422, 422, 422]
    assert results[1]["error"]["errors"] == {"json": {"customer": ["customer: no such document"]}}
    assert results[2]["error"]["message"] == "customer: no such document"
    assert "items.product_id" in results[3]["error"]["errors"]["json"]
    listed = client.get("/orders", headers=ACME).get_json()
    assert listed["total"] == 2
    assert client.get(f"/orders/{order_id}", headers=ACME).get_json()["customer"] == world["mine"]
