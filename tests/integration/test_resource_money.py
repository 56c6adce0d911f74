"""Money over HTTP: ``Decimal`` fields stored as Decimal128, filtered, sorted and paged exactly,
returned as the schema says, documented with numeric bounds (a valid OpenAPI document)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import marshmallow as ma
import pytest
from bson import Decimal128
from flask import Flask
from flask.testing import FlaskClient
from flask_smorest import Blueprint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from rainbond_kit import RainbondKit, Settings, get_api, get_container
from rainbond_kit.resource import ResourceView


class LineSchema(ma.Schema):
    qty = ma.fields.Integer(required=True)
    unit_price = ma.fields.Decimal(required=True, places=2)


class ProductSchema(ma.Schema):
    name = ma.fields.String(required=True)
    price = ma.fields.Decimal(required=True, validate=ma.validate.Range(min=Decimal("0.00")))
    cost = ma.fields.Decimal(as_string=True, places=4, load_default=None, allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(LineSchema), load_default=list)


class Products(ResourceView):
    COLLECTION = "products"
    SCHEMA = ProductSchema
    PAGE_SIZE = 2


@pytest.fixture
def app(rainbond_settings: Settings) -> Iterator[Flask]:
    app = Flask("money")
    app.config["TESTING"] = True
    RainbondKit(app, settings=rainbond_settings, wire=[sys.modules[__name__]])
    blp = Blueprint("products", __name__, url_prefix="/products")
    Products.register(blp)
    get_api(app).register_blueprint(blp)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _exact(response: Any) -> Any:
    """The body parsed with decimals kept exact (what a careful client does)."""
    return json.loads(response.get_data(as_text=True), parse_float=Decimal)


def test_decimal_is_stored_as_decimal128_and_returned_exactly(
    client: FlaskClient, app: Flask
) -> None:
    """A price with more digits than a double holds round-trips digit for digit: Decimal128 in
    the store, a JSON number with the same digits for a plain Decimal, a string with
    ``as_string=True``; nested line items too."""
    body = {
        "name": "gold",
        "price": "12345678901234567890.12",
        "cost": "0.1",
        "lines": [{"qty": 2, "unit_price": "0.10"}],
    }
    created = client.post("/products", json=body)
    assert created.status_code == 201, created.get_json()
    text = created.get_data(as_text=True)
    assert '"price": 12345678901234567890.12' in text or '"price":12345678901234567890.12' in text
    exact = _exact(created)
    assert exact["price"] == Decimal("12345678901234567890.12")
    assert exact["cost"] == "0.1000"  # as_string, places=4
    assert exact["lines"] == [{"qty": 2, "unit_price": Decimal("0.10")}]
    stored = get_container(app).mongo_db()["products"].find_one({"name": "gold"})
    assert stored is not None
    assert stored["price"] == Decimal128("12345678901234567890.12")
    assert stored["cost"] == Decimal128("0.1000")
    assert stored["lines"][0]["unit_price"] == Decimal128("0.10")
    read = client.get(f"/products/{exact['id']}")
    assert _exact(read)["price"] == Decimal("12345678901234567890.12")
    listed = _exact(client.get("/products"))["items"][0]
    assert listed["price"] == Decimal("12345678901234567890.12")


def test_too_many_digits_is_a_422_naming_the_field(client: FlaskClient) -> None:
    """Decimal128 holds 34 significant digits: 35 is a 422 naming ``price``, never rounded."""
    digits35 = "1" * 35
    response = client.post("/products", json={"name": "x", "price": digits35})
    assert response.status_code == 422
    assert "price" in response.get_json()["errors"]["json"]
    ok = client.post("/products", json={"name": "x", "price": "1" * 34})  # control
    assert ok.status_code == 201


def test_filters_and_sorts_are_numeric_across_decimal128_int_and_double(
    client: FlaskClient, app: Flask
) -> None:
    """Filters parse to Decimal128 and compare numerically with numbers stored by other code
    (int, double); sort order is numeric, and ``$after`` pages over Decimal128 values."""
    for name, price in (("a", "12.50"), ("b", "0.1"), ("c", "100"), ("d", "99.99")):
        assert client.post("/products", json={"name": name, "price": price}).status_code == 201
    collection = get_container(app).mongo_db()["products"]
    collection.insert_one({"name": "legacy-int", "price": 3})
    collection.insert_one({"name": "legacy-double", "price": 12.5})

    def names(**query: Any) -> list[str]:
        response = client.get("/products", query_string={"$limit": 50, **query})
        assert response.status_code == 200, response.get_json()
        return [i["name"] for i in response.get_json()["items"]]

    assert names(price="12.5", **{"$orderby": "name"}) == ["a", "legacy-double"]
    assert names(**{"price[gt]": "12.49", "$orderby": "price asc"}) == [
        "a", "legacy-double", "d", "c",
    ]  # fmt: skip
    assert names(**{"price[lte]": "3.0", "$orderby": "price"}) == ["b", "legacy-int"]
    assert names(**{"price[in]": "0.10,100.0", "$orderby": "price"}) == ["b", "c"]
    order = ["b", "legacy-int", "a", "legacy-double", "d", "c"]
    assert names(**{"$orderby": "price asc"})[:3] == order[:3]
    walked: list[str] = []
    params: dict[str, Any] = {"$orderby": "price asc", "$limit": 2}
    while True:
        page = client.get("/products", query_string=params).get_json()
        walked += [i["name"] for i in page["items"]]
        if page["next"] is None:
            break
        params["$after"] = page["next"]
    assert walked == order  # ties (12.5 == 12.50) broken by id, both seen once
    bad = client.get("/products", query_string={"price": "abc"})
    assert bad.status_code == 400
    assert "price" in bad.get_json()["errors"]


def test_openapi_document_is_valid_with_numeric_decimal_bounds(client: FlaskClient) -> None:
    """``Range(min=Decimal("0.00"))`` is documented as ``minimum: 0`` (a number), the
    ``as_string`` field as a string; the whole document validates."""
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    schema = spec["components"]["schemas"]["Product"]["properties"]
    assert schema["price"]["type"] == "number"
    assert schema["price"]["minimum"] == 0
    assert not isinstance(schema["price"]["minimum"], str)
    assert schema["cost"]["type"] == "string"
    parameters = spec["paths"]["/products"]["get"]["parameters"]
    price = next(p for p in parameters if p["name"] == "price[gte]")
    assert price["schema"]["type"] == "number"


@given(price=st.decimals(min_value=0, max_value=10**20, places=6, allow_nan=False))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_decimal_round_trips_exactly(client: FlaskClient, price: Decimal) -> None:
    """Whatever decimal a client sends (up to 27 digits) comes back with the same value."""
    created = client.post("/products", json={"name": "h", "price": str(price)})
    assert created.status_code == 201, created.get_json()
    assert _exact(created)["price"] == price
    found = client.get("/products", query_string={"price": str(price), "$limit": 100})
    assert created.get_json()["id"] in [i["id"] for i in found.get_json()["items"]]


@given(
    prices=st.lists(
        st.decimals(min_value=0, max_value=10**12, places=4, allow_nan=False),
        min_size=2,
        max_size=6,
    )
)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_sorting_by_a_decimal_is_numeric_order(client: FlaskClient, prices: list[Decimal]) -> None:
    """``$orderby=price`` (and its reverse) lists any set of decimals in numeric order, exactly
    (``0.1000`` before ``0.2``, ``9`` before ``10``)."""
    name = uuid.uuid4().hex
    for price in prices:
        response = client.post("/products", json={"name": name, "price": str(price)})
        assert response.status_code == 201
    for direction, reverse in (("asc", False), ("desc", True)):
        query = {"name[eq]": name, "$orderby": f"price {direction}", "$limit": 10}
        items = _exact(client.get("/products", query_string=query))["items"]
        assert [i["price"] for i in items] == sorted(prices, reverse=reverse)
