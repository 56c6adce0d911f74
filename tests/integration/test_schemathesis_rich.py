"""Schema fuzzing over a second resource built from the richer field types (issue 12).

The sample's ``BookSchema`` is friendly: strings, an integer, a list of strings. This resource
uses every kind of field a user may declare that rainbond-kit stores (temporal types, UUID,
Enum, Email/Url, Nested and List(Nested), Dict, ``data_key``, ``load_only``/``dump_only``,
``allow_none``, defaults), with ETags and soft delete on, and schemathesis checks every
response against the document: status codes, content types, bodies and headers, no 5xx, no leak.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

import marshmallow as ma
import pytest
from flask import Flask
from flask_smorest import Blueprint

from rainbond_kit import RainbondKit, ResourceView, Settings, get_api
from tests.integration.test_schemathesis import fuzz


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(ma.Schema):
    city = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    postcode = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=10))


class Line(ma.Schema):
    sku = ma.fields.UUID(required=True)
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=1000))
    price = ma.fields.Float(validate=ma.validate.Range(min=0, max=1e6))


class OrderSchema(ma.Schema):
    reference = ma.fields.String(
        required=True, data_key="ref", validate=ma.validate.Length(min=1, max=30)
    )
    placed_at = ma.fields.DateTime(required=True, data_key="placedAt")
    deliver_on = ma.fields.Date(allow_none=True)
    slot = ma.fields.Time()
    contact = ma.fields.Email()
    website = ma.fields.Url()
    colour = ma.fields.Enum(Colour, by_value=True, load_default=Colour.RED)
    paid = ma.fields.Boolean(load_default=False)
    address = ma.fields.Nested(Address)
    lines = ma.fields.List(ma.fields.Nested(Line), validate=ma.validate.Length(max=5))
    labels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    secret = ma.fields.String(load_only=True)
    audit = ma.fields.Integer(dump_only=True)


class Orders(ResourceView):
    """Orders with every richer field type."""

    COLLECTION = "rich_orders"
    SCHEMA = OrderSchema
    SOFT_DELETE = True
    ETAG = True


@pytest.fixture
def rich_app(rainbond_settings: Settings) -> Iterator[Flask]:
    app = Flask("rich")
    app.config["TESTING"] = False
    RainbondKit(app, settings=rainbond_settings, title="Rich orders", version="1.0.0")
    blp = Blueprint("orders", __name__, url_prefix="/orders")
    Orders.register(blp, name="Orders")
    get_api(app).register_blueprint(blp)
    yield app
    RainbondKit.shutdown(app)


def test_rich_resource_conforms(rich_app: Flask) -> None:
    """Every generated request over the rich resource gets a documented, non-5xx answer."""
    document = rich_app.test_client().get("/openapi.json").get_json()
    operations = [
        (path, verb)
        for path, item in document["paths"].items()
        for verb in item
        if verb != "parameters"
    ]
    assert sorted(operations) == [
        ("/orders", "get"),
        ("/orders", "post"),
        ("/orders/search", "post"),
        ("/orders/{item_id}", "delete"),
        ("/orders/{item_id}", "get"),
        ("/orders/{item_id}", "patch"),
        ("/orders/{item_id}", "put"),
    ]
    item = document["components"]["schemas"]["OrdersItem"]["properties"]
    assert item["placedAt"] == {
        "type": "string",
        "format": "date-time",
        **_example(item["placedAt"]),
    }
    assert item["secret"].get("writeOnly") is True
    assert item["audit"]["readOnly"] is True
    calls = fuzz(rich_app)
    assert calls >= 7 * 10, calls  # every operation got a fair number of generated requests


def _example(prop: dict[str, object]) -> dict[str, object]:
    return {"example": prop["example"]} if "example" in prop else {}
