"""Actions and TRANSITIONS: declaration checks, hook keywords, and testing with auth on (no sockets)."""

from __future__ import annotations

from typing import Any, ClassVar

import fakeredis
import marshmallow as ma
import mongomock
import pytest
from flask import Flask
from flask_smorest import Blueprint
from openapi_spec_validator import validate
from sample_app import create_app

from rainbond_kit import ConfigurationError, RainbondKit, ResourceView, Settings, get_api
from rainbond_kit.resource.actions import action, actions_of
from rainbond_kit.resource.transitions import hook_keywords
from rainbond_kit.testing import AuthCenter, override_on_init
from rainbond_kit.testing.auth import auth_env


class ThingSchema(ma.Schema):
    name = ma.fields.String(required=True)
    state = ma.fields.String()
    tags = ma.fields.List(ma.fields.String())
    seen = ma.fields.Integer(dump_only=True)


class Things(ResourceView):
    COLLECTION = "things"
    SCHEMA = ThingSchema


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("Pay",), {}, "lower-case URL segment"),
        (("a/b",), {}, "lower-case URL segment"),
        (("search",), {}, "lower-case URL segment"),
        (("pay",), {"method": "GET", "body": ThingSchema}, "has no body"),
        (("pay",), {"body": ThingSchema, "args": ThingSchema}, "not both"),
    ],
)
def test_bad_action_declarations_fail_at_import(
    args: tuple[str], kwargs: dict[str, Any], match: str
) -> None:
    """Names that are no URL segment, a GET body, body and args together: ConfigurationError."""
    with pytest.raises(ConfigurationError, match=match):
        action(*args, **kwargs)


def test_good_action_declaration_is_accepted() -> None:
    """The control: a plain POST item action with a body is declared, and found on subclasses."""

    class WithPay(Things):
        @action("pay-now", body=ThingSchema)
        def pay(self, doc: dict[str, Any], data: dict[str, Any]) -> None:
            return None

    class Sub(WithPay):
        pass

    assert [spec.name for spec, _ in actions_of(Sub).values()] == ["pay-now"]


def test_two_actions_on_one_route_and_method_are_refused() -> None:
    """Same name, item level and method twice: ConfigurationError at register()."""

    class Twice(Things):
        @action("go")
        def one(self, doc: Any, data: Any) -> None:
            return None

        @action("go")
        def two(self, doc: Any, data: Any) -> None:
            return None

    with pytest.raises(ConfigurationError, match="two actions"):
        Twice.register(Blueprint("twice", __name__))


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        ({"nope": {"a": ["b"]}}, "not a writable SCHEMA field"),
        ({"seen": {"a": ["b"]}}, "not a writable SCHEMA field"),
        ({"tags": {"a": ["b"]}}, "scalar field"),
        ({"state": {"a": "b"}}, "list of values"),
        ({"state": ["a"]}, "list of values"),
        (["state"], "must be a mapping"),
    ],
)
def test_bad_transitions_fail_at_register(rules: Any, match: str) -> None:
    """Unknown, read-only or non-scalar fields and malformed rules: ConfigurationError."""
    cls = type("Bad", (Things,), {"TRANSITIONS": rules})
    with pytest.raises(ConfigurationError, match=match):
        cls.register(Blueprint("bad", __name__))


def test_good_transitions_register() -> None:
    """The control: rules on a writable scalar field are accepted."""

    class Good(Things):
        TRANSITIONS: ClassVar[Any] = {"state": {"new": ["done"], "done": []}}

    Good.register(Blueprint("good", __name__))


def test_update_hook_keywords_are_opt_in() -> None:
    """The legacy signature gets neither keyword; declared ones, or **kwargs, get theirs."""

    class Legacy(Things):
        def before_update(self, changes: dict[str, Any], *, partial: bool) -> dict[str, Any]:
            return changes

    class Current(Things):
        def before_update(
            self, changes: dict[str, Any], *, partial: bool, current: Any
        ) -> dict[str, Any]:
            return changes

    class Everything(Things):
        def before_update(self, changes: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            return changes

    assert hook_keywords(Legacy().before_update) == frozenset()
    assert hook_keywords(Current().before_update) == {"current"}
    assert hook_keywords(Everything().before_update) == {"item_id", "current"}


@pytest.fixture
def stores() -> tuple[mongomock.MongoClient[dict[str, Any]], fakeredis.FakeRedis]:
    return mongomock.MongoClient(), fakeredis.FakeRedis(decode_responses=True)


def test_override_on_init_puts_fakes_in_place_before_init_auth(
    stores: tuple[mongomock.MongoClient[dict[str, Any]], fakeredis.FakeRedis],
) -> None:
    """The app factory's init_auth registers into mongomock; kit users work on the fakes."""
    mongo, redis = stores
    env = auth_env("unit")
    center = AuthCenter(mongo["unit"], redis, env)
    with override_on_init(mongo_client=mongo, redis_client=redis) as apps:
        app: Flask = create_app(Settings(), {"TESTING": True}, auth=center.settings)
        assert apps == [app]
        assert ("订单中心", "订单管理") in center.registered()
        client = app.test_client()
        assert client.get("/api/v1/orders").status_code == 401
        clerk = center.user("clerk", codes=[1, 2])
        assert client.get("/api/v1/orders", headers=clerk).get_json()["total"] == 0
        created = client.post("/api/v1/customers", json={"name": "C"}, headers=clerk)
        assert created.status_code == 201
        assert client.delete(
            f"/api/v1/customers/{created.get_json()['id']}", headers=clerk
        ).get_json()["required_codes"] == [8]
    RainbondKit.shutdown(app)


def test_kit_user_without_a_registered_permission_says_what_to_do(
    stores: tuple[mongomock.MongoClient[dict[str, Any]], fakeredis.FakeRedis],
) -> None:
    """No app created yet and no permission=: a ValueError telling how to fix it."""
    mongo, redis = stores
    center = AuthCenter(mongo["unit"], redis, auth_env("unit"))
    with pytest.raises(ValueError, match="create the app"):
        center.user("early")
    assert center.user("explicit", permission=("c", "p"))["token"].count(".") == 2


def test_string_decimal_bounds_are_numbers_in_the_document(bare_app: Flask) -> None:
    """Regression: ``Decimal(as_string=True, places=2)`` with ``Range(min=0)`` was documented
    with ``"minimum": "0.00"`` (apispec writes the bound through the field): the document
    failed openapi-spec-validator. The bound is the number 0; the property a decimal string."""

    class PriceSchema(ma.Schema):
        price = ma.fields.Decimal(
            as_string=True, places=2, validate=ma.validate.Range(min=0, max=1000)
        )

    class Prices(ResourceView):
        COLLECTION = "prices"
        SCHEMA = PriceSchema

    blp = Blueprint("prices", __name__, url_prefix="/prices")
    Prices.register(blp)
    get_api(bare_app).register_blueprint(blp)
    with bare_app.app_context():
        spec = get_api(bare_app).spec.to_dict()
    validate(spec)
    price = spec["components"]["schemas"]["Price"]["properties"]["price"]
    assert (price["type"], price["format"]) == ("string", "decimal")
    assert (price["minimum"], price["maximum"]) == (0, 1000)
