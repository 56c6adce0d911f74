"""Issue 14 (bounded work per request), without sockets: the query time limit's settings and
its 503, the count-mode and offset options, the configured time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
import mongomock
import pymongo
import pymongo.errors
import pytest
from flask import Flask
from flask_smorest import Blueprint

from rainbond_kit import ConfigurationError, Container, RainbondKit, ResourceView, Settings
from rainbond_kit.data.repository import MongoRepository
from rainbond_kit.data.store_errors import QUERY_TIMEOUT_MESSAGE, http_error_for
from rainbond_kit.errors import BadRequestError
from rainbond_kit.query import QuerySpec, parse_list_query
from rainbond_kit.query.spec import FieldSpec, Kind
from rainbond_kit.zones import current_zone, zone_from

UTC = dt.timezone.utc
SPEC = QuerySpec(
    fields={"title": FieldSpec(Kind.STRING), "day": FieldSpec(Kind.DATETIME)},
    count_limit=50,
    max_offset=100,
)


def test_query_timeout_defaults_below_the_worker_timeout() -> None:
    """25 s of maxTimeMS, a 28 s socket timeout: both below gunicorn's 30 s default."""
    settings = Settings.from_env({"MONGODB_URI": "mongodb://h:1/"})
    assert settings.mongo.query_timeout_ms == 25_000
    client: pymongo.MongoClient[dict[str, Any]] = Container(settings=settings).mongo_client()
    assert client.options.pool_options.socket_timeout == 28.0
    client.close()


def test_query_timeout_is_configurable_and_the_uri_keeps_its_socket_timeout() -> None:
    """MONGODB_QUERY_TIMEOUT_MS moves the socket timeout along; a URI's socketTimeoutMS wins."""
    env = {"MONGODB_HOST": "h", "MONGODB_QUERY_TIMEOUT_MS": "4000"}
    settings = Settings.from_env(env)
    assert settings.mongo.query_timeout_ms == 4000
    container = Container(settings=settings)
    assert container.mongo_client().options.pool_options.socket_timeout == 7.0
    assert container.repository(collection="x").time_limit == {"maxTimeMS": 4000}
    container.mongo_client().close()
    uri = Settings.from_env({"MONGODB_URI": "mongodb://h:1/?socketTimeoutMS=9000"})
    client: pymongo.MongoClient[dict[str, Any]] = Container(settings=uri).mongo_client()
    assert client.options.pool_options.socket_timeout == 9.0
    client.close()


@pytest.mark.parametrize("raw", ["0", "-5", "soon", "2.5"])
def test_malformed_query_timeout_names_the_variable(raw: str) -> None:
    """A bad MONGODB_QUERY_TIMEOUT_MS is a ConfigurationError naming it, at start-up."""
    with pytest.raises(ConfigurationError, match="MONGODB_QUERY_TIMEOUT_MS"):
        Settings.from_env({"MONGODB_URI": "mongodb://h:1/", "MONGODB_QUERY_TIMEOUT_MS": raw})


@pytest.mark.parametrize(
    "exc",
    [
        pymongo.errors.ExecutionTimeout("operation exceeded time limit", 50),
        pymongo.errors.OperationFailure("operation exceeded time limit", 50),
    ],
)
def test_an_exceeded_time_limit_is_a_503_naming_the_cause(exc: Exception) -> None:
    """Code 50 (MaxTimeMSExpired) is a 503 naming the limit, not a 400 'rejected query'."""
    error = http_error_for(exc)
    assert error is not None
    assert (error.code, error.description) == (503, QUERY_TIMEOUT_MESSAGE)
    assert "MONGODB_QUERY_TIMEOUT_MS" in QUERY_TIMEOUT_MESSAGE
    other = http_error_for(pymongo.errors.OperationFailure("bad $regex", 2))
    assert other is not None
    assert other.code == 400  # the control: other failures unchanged


def test_repository_without_a_limit_sends_no_max_time() -> None:
    """``max_time_ms=None`` adds no option (a null maxTimeMS would be refused)."""
    repository = MongoRepository(mongomock.MongoClient()["db"], "c")
    assert (repository.max_time_ms, repository.time_limit) == (None, {})


@pytest.mark.parametrize(
    ("params", "count", "offset"),
    [
        ({}, "exact", 0),
        ({"$count": "bounded"}, "bounded", 0),
        ({"$count": "estimated", "$offset": "100"}, "estimated", 100),
        ({"$count": "none"}, "none", 0),
    ],
)
def test_count_modes_and_the_offset_cap_parse(
    params: dict[str, str], count: str, offset: int
) -> None:
    """Every count mode is accepted, with the resource's bound; an offset at the cap is."""
    query = parse_list_query(params, SPEC)
    assert (query.count, query.offset, query.count_limit) == (count, offset, 50)


@pytest.mark.parametrize(
    ("params", "name", "needle"),
    [
        ({"$count": "roughly"}, "$count", "exact, estimated, bounded, none"),
        ({"$offset": "101"}, "$offset", "$after"),
        ({"day[ne]": ["2024-01-01", "2024-01-02"]}, "day", "one calendar date"),
    ],
)
def test_bad_count_and_deep_offset_are_400(params: dict[str, Any], name: str, needle: str) -> None:
    """An unknown mode, an offset past MAX_OFFSET: 400 naming the parameter and the way out."""
    with pytest.raises(BadRequestError) as info:
        parse_list_query(params, SPEC)
    assert info.value.code == 400
    message = info.value.description
    assert needle in message
    assert info.value.data["errors"] == {name: [message]}


def test_resource_default_count_mode_applies_when_the_client_sends_none() -> None:
    """QuerySpec.count_mode is the default; the client's $count still wins."""
    spec = QuerySpec(fields={}, count_mode="bounded")
    assert parse_list_query({}, spec).count == "bounded"
    assert parse_list_query({"$count": "exact"}, spec).count == "exact"


def test_startswith_is_an_anchored_literal_prefix() -> None:
    """Regex metacharacters are escaped; the pattern is ^prefix, case-sensitive (index-friendly)."""
    query = parse_list_query({"title[startswith]": "a.b(c)*[x]^$|?+\\"}, SPEC)
    assert query.filter == {"title": {"$regex": "^a\\.b\\(c\\)\\*\\[x\\]\\^\\$\\|\\?\\+\\\\"}}


def test_date_equality_is_the_whole_day_in_the_zone() -> None:
    """day[eq]=2024-03-01 in Asia/Shanghai: 2024-02-29T16:00Z to 2024-03-01T15:59:59.999Z."""
    zone = ZoneInfo("Asia/Shanghai")
    first = dt.datetime(2024, 2, 29, 16, tzinfo=UTC)
    last = dt.datetime(2024, 3, 1, 15, 59, 59, 999000, tzinfo=UTC)
    assert parse_list_query({"day[eq]": "2024-03-01"}, SPEC, zone=zone).filter == {
        "day": {"$gte": first, "$lte": last}
    }
    assert parse_list_query({"day": "2024-03-01"}, SPEC, zone=zone).filter == {
        "day": {"$gte": first, "$lte": last}
    }
    assert parse_list_query({"day[ne]": "2024-03-01"}, SPEC, zone=zone).filter == {
        "day": {"$not": {"$gte": first, "$lte": last}}
    }
    exact = parse_list_query({"day[eq]": "2024-03-01T00:00:00Z"}, SPEC, zone=zone)
    assert exact.filter == {"day": {"$eq": dt.datetime(2024, 3, 1, tzinfo=UTC)}}


class _Schema(ma.Schema):
    title = ma.fields.String()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("COUNT_MODE", "roughly"),
        ("COUNT_LIMIT", 0),
        ("COUNT_LIMIT", True),
        ("MAX_OFFSET", -1),
        ("MAX_OFFSET", "10"),
    ],
)
def test_bad_paging_options_are_refused_at_register(option: str, value: object) -> None:
    """register() names the option (never a per-request 500)."""
    resource = type("Bad", (ResourceView,), {"COLLECTION": "c", "SCHEMA": _Schema, option: value})
    with pytest.raises(ConfigurationError, match=f"Bad.{option}"):
        resource.register(Blueprint("bad", __name__))


@pytest.mark.parametrize(
    ("configured", "env", "expected"),
    [
        (None, {}, "UTC"),
        (None, {"TZ": "Asia/Shanghai"}, "Asia/Shanghai"),
        (None, {"TZ": ":Asia/Shanghai"}, "Asia/Shanghai"),
        (None, {"RAINBOND_TIMEZONE": "Europe/Berlin", "TZ": "CST-8"}, "Europe/Berlin"),
        ("America/New_York", {"RAINBOND_TIMEZONE": "Europe/Berlin"}, "America/New_York"),
    ],
)
def test_zone_resolution_order(configured: str | None, env: dict[str, str], expected: str) -> None:
    """app.config beats RAINBOND_TIMEZONE, which beats TZ; UTC when none is set."""
    assert str(zone_from(configured, env)) == expected


@pytest.mark.parametrize(
    ("configured", "env", "name"),
    [
        ("Mars/Olympus", {}, "RAINBOND_TIMEZONE"),
        (None, {"RAINBOND_TIMEZONE": "+08:00"}, "RAINBOND_TIMEZONE"),
        (None, {"TZ": "CST-8"}, "TZ"),
        (None, {"TZ": "/etc/passwd"}, "TZ"),
        (8, {}, "RAINBOND_TIMEZONE"),
    ],
)
def test_bad_zone_names_the_variable(configured: object, env: dict[str, str], name: str) -> None:
    """A value that is no IANA zone name is a ConfigurationError naming where it came from."""
    with pytest.raises(ConfigurationError, match=f"^{name} must be an IANA time zone name"):
        zone_from(configured, env)


def test_init_app_validates_and_keeps_the_zone(offline_settings: Settings) -> None:
    """RAINBOND_TIMEZONE is checked at init_app and read back inside the app."""
    app = Flask("zoned")
    app.config["RAINBOND_TIMEZONE"] = "Asia/Shanghai"
    RainbondKit(app, settings=offline_settings)
    with app.app_context():
        assert current_zone() == ZoneInfo("Asia/Shanghai")
    assert current_zone() == UTC  # outside an app
    broken = Flask("broken")
    broken.config["RAINBOND_TIMEZONE"] = "Nowhere/Land"
    with pytest.raises(ConfigurationError, match="RAINBOND_TIMEZONE"):
        RainbondKit(broken, settings=offline_settings)
    RainbondKit.shutdown(app)
