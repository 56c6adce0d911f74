"""Filters on Enum fields (by name and by value) and opt-in nested fields, over HTTP, typed and
documented like the others."""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_smorest import Blueprint
from openapi_spec_validator import validate

from rainbond_kit import ConfigurationError, RainbondKit, Settings, get_api
from rainbond_kit.resource import ResourceView


class Status(enum.Enum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"


class Priority(enum.Enum):
    LOW = 1
    HIGH = 2


class AddressSchema(ma.Schema):
    city = ma.fields.String(required=True)
    zip_code = ma.fields.String(data_key="zip")


class LineSchema(ma.Schema):
    sku = ma.fields.String(required=True)
    qty = ma.fields.Integer(required=True)


class OrderSchema(ma.Schema):
    status = ma.fields.Enum(Status, by_value=True, required=True)
    kind = ma.fields.Enum(Status, load_default=Status.PENDING)  # by name
    priority = ma.fields.Enum(Priority, by_value=True, load_default=Priority.LOW)
    address = ma.fields.Nested(AddressSchema, data_key="shipTo")
    lines = ma.fields.List(ma.fields.Nested(LineSchema), load_default=list)


class Orders(ResourceView):
    COLLECTION = "orders"
    SCHEMA = OrderSchema
    FILTER_FIELDS = ("status", "kind", "priority", "shipTo.city", "address.zip", "lines.qty")


@pytest.fixture
def app(rainbond_settings: Settings) -> Iterator[Flask]:
    app = Flask("kinds")
    app.config["TESTING"] = True
    RainbondKit(app, settings=rainbond_settings, wire=[sys.modules[__name__]])
    blp = Blueprint("orders", __name__, url_prefix="/orders")
    Orders.register(blp)
    get_api(app).register_blueprint(blp)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    client = app.test_client()
    rows = [
        ("pending", "PAID", 1, "Paris", "75001", [("a", 1)]),
        ("paid", "PENDING", 2, "Lyon", "69001", [("a", 5), ("b", 2)]),
        ("shipped", "SHIPPED", 2, "Paris", "75002", []),
        ("paid", "PAID", 1, "paris", "75003", [("c", 9)]),
    ]
    for status, kind, priority, city, zip_code, lines in rows:
        body = {
            "status": status,
            "kind": kind,
            "priority": priority,
            "shipTo": {"city": city, "zip": zip_code},
            "lines": [{"sku": s, "qty": q} for s, q in lines],
        }
        assert client.post("/orders", json=body).status_code == 201
    return client


def _zips(client: FlaskClient, **query: Any) -> list[str]:
    response = client.get("/orders", query_string={"$orderby": "creation_time", **query})
    assert response.status_code == 200, response.get_json()
    return [i["shipTo"]["zip"] for i in response.get_json()["items"]]


def test_enum_filters_by_stored_value_exactly(client: FlaskClient) -> None:
    """``status=paid`` is equality (not *contains*), by value; ``kind`` by name; an int-valued
    enum by its integer; ``in``/``ne`` work."""
    assert _zips(client, status="paid") == ["69001", "75003"]
    assert _zips(client, kind="PAID") == ["75001", "75003"]
    assert _zips(client, priority="2") == ["69001", "75002"]
    assert _zips(client, **{"status[in]": "pending,shipped"}) == ["75001", "75002"]
    assert _zips(client, **{"status[ne]": "paid"}) == ["75001", "75002"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("status", "pai"), ("status", "PAID"), ("kind", "paid"), ("priority", "3"),
     ("priority", "x")],
)  # fmt: skip
def test_a_value_outside_the_enum_is_a_400_naming_the_parameter(
    client: FlaskClient, name: str, value: str
) -> None:
    """A partial text, the other spelling (name vs value) or a non-member is a 400."""
    response = client.get("/orders", query_string={name: value})
    assert response.status_code == 400
    assert name in response.get_json()["errors"]


def test_nested_fields_filter_when_listed(client: FlaskClient) -> None:
    """``shipTo.city`` (data_key) or ``address.zip`` (attribute) as listed in FILTER_FIELDS;
    list elements too (``lines.qty``); nested fields filter, they do not sort."""
    assert _zips(client, **{"shipTo.city[eq]": "Paris"}) == ["75001", "75002"]
    assert _zips(client, **{"shipTo.city[icontains]": "PARIS"}) == ["75001", "75002", "75003"]
    assert _zips(client, **{"shipTo.zip[startswith]": "7500"}) == ["75001", "75002", "75003"]
    assert _zips(client, **{"lines.qty[gte]": "5"}) == ["69001", "75003"]
    bad = client.get("/orders", query_string={"shipTo.city[gte]": "x", "lines.qty": "many"})
    assert bad.status_code == 400
    unlisted = client.get("/orders", query_string={"lines.sku": "a"})
    assert unlisted.status_code == 400  # nested fields are opt-in
    unsorted = client.get("/orders", query_string={"$orderby": "shipTo.city"})
    assert unsorted.status_code == 400


def test_openapi_documents_enum_and_nested_parameters(client: FlaskClient) -> None:
    """Typed parameters: the enum's values, the nested path; the document stays valid."""
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    params = {p["name"]: p for p in spec["paths"]["/orders"]["get"]["parameters"]}
    assert params["status"]["schema"]["enum"] == ["pending", "paid", "shipped"]
    assert params["kind"]["schema"]["enum"] == ["PENDING", "PAID", "SHIPPED"]
    assert params["priority"]["schema"] == {"type": "integer", "format": "int64", "enum": [1, 2]}
    assert "status[contains]" not in params
    assert params["shipTo.city"]["schema"]["type"] == "string"
    assert params["lines.qty[gte]"]["schema"]["type"] == "integer"


def test_unknown_nested_filter_field_is_refused_at_register() -> None:
    """A FILTER_FIELDS path the schema does not have is a ConfigurationError naming it."""

    class Broken(ResourceView):
        COLLECTION = "broken"
        SCHEMA = OrderSchema
        FILTER_FIELDS = ("shipTo.country",)

    with pytest.raises(ConfigurationError, match=r"shipTo\.country"):
        Broken.register(Blueprint("broken", __name__))
