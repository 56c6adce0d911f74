"""A duplicate-key 409 over HTTP names the field as the API does (its ``data_key``), shows
the colliding value only for a field the caller can read, and the same through a batch."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import marshmallow as ma
import pymongo
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_smorest import Blueprint

from rainbond_kit import RainbondKit, Settings, get_api, unique_live, wait_for_indexes
from rainbond_kit.resource import ResourceView
from rainbond_kit.resource.view import ALL_OPERATIONS


class AccountSchema(ma.Schema):
    login_name = ma.fields.String(required=True, data_key="loginName")
    pin_code = ma.fields.String(load_only=True, data_key="pinCode")


class Accounts(ResourceView):
    COLLECTION = "accounts"
    SCHEMA = AccountSchema
    OPERATIONS = ALL_OPERATIONS | {"batch"}
    INDEXES = (
        unique_live("login_name"),
        pymongo.IndexModel([("pin_code", 1)], unique=True, sparse=True, name="pin_unique"),
    )


@pytest.fixture
def client(rainbond_settings: Settings) -> Iterator[FlaskClient]:
    app = Flask("unique_names")
    app.config["TESTING"] = True
    RainbondKit(app, settings=rainbond_settings, wire=[sys.modules[__name__]])
    blp = Blueprint("accounts", __name__, url_prefix="/accounts")
    Accounts.register(blp)
    get_api(app).register_blueprint(blp)
    assert wait_for_indexes(app)
    yield app.test_client()
    RainbondKit.shutdown(app)


def test_the_409_uses_the_apis_field_names(client: FlaskClient) -> None:
    created = client.post("/accounts", json={"loginName": "ann", "pinCode": "1234"})
    assert created.status_code == 201, created.get_json()
    same_login = client.post("/accounts", json={"loginName": "ann"})
    assert same_login.status_code == 409
    body = same_login.get_json()
    assert body["message"] == "a document with the same loginName exists"
    assert body["errors"] == {"loginName": ["already exists"]}
    assert body["duplicate"] == {"loginName": "ann"}
    same_pin = client.post("/accounts", json={"loginName": "bob", "pinCode": "1234"})
    assert same_pin.status_code == 409
    hidden = same_pin.get_json()
    assert hidden["errors"] == {"pinCode": ["already exists"]}
    assert "duplicate" not in hidden  # pinCode is load_only: its value is never shown
    assert "1234" not in same_pin.get_data(as_text=True)


def test_a_deleted_accounts_login_can_be_taken_again(client: FlaskClient) -> None:
    first = client.post("/accounts", json={"loginName": "eve"}).get_json()["id"]
    assert client.delete(f"/accounts/{first}").status_code == 204
    again = client.post("/accounts", json={"loginName": "eve"})
    assert again.status_code == 201, again.get_json()


def test_a_batchs_duplicates_are_named_the_same_way(client: FlaskClient) -> None:
    assert client.post("/accounts", json={"loginName": "kim", "pinCode": "9"}).status_code == 201
    response = client.post(
        "/accounts/batch",
        json={
            "ordered": False,
            "operations": [
                {"op": "create", "data": {"loginName": "kim"}},
                {"op": "create", "data": {"loginName": "lee", "pinCode": "9"}},
                {"op": "create", "data": {"loginName": "max"}},
            ],
        },
    )
    assert response.status_code == 207, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [409, 409, 201]
    assert results[0]["error"]["errors"] == {"loginName": ["already exists"]}
    assert results[0]["error"]["duplicate"] == {"loginName": "kim"}
    assert results[1]["error"]["errors"] == {"pinCode": ["already exists"]}
    assert "duplicate" not in results[1]["error"]
