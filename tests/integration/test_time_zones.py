"""Issue 14, time: calendar days in ``$start_date``/``$end_date``, ``[eq]``/``[ne]`` and compat's
``find_paging`` follow the configured zone (``RAINBOND_TIMEZONE``, else ``TZ``, else UTC), over
HTTP against documents stored at the day's edges; a 10-digit end timestamp covers its second."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from flask import Flask
from flask.testing import FlaskClient

from rainbond_kit import RainbondKit, Settings
from rainbond_kit.compat.db_connect import DBConnect
from tests.integration.contract_support import make_resource, serve

URL = "/things"
UTC = dt.timezone.utc


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


#: name -> creation_time (UTC): the edges of 2024-03-01 in UTC and in Asia/Shanghai (+08:00)
EDGES = {
    "sh-feb29-last": _at("2024-02-29T15:59:59.999"),
    "sh-mar01-first": _at("2024-02-29T16:00:00.000"),
    "utc-mar01-first": _at("2024-03-01T00:00:00.000"),
    "sh-mar01-last": _at("2024-03-01T15:59:59.999"),
    "sh-mar02-first": _at("2024-03-01T16:00:00.000"),
    "utc-mar01-last": _at("2024-03-01T23:59:59.999"),
    "utc-mar02-first": _at("2024-03-02T00:00:00.000"),
}
MARCH_1 = {
    "UTC": {"utc-mar01-first", "sh-mar01-last", "sh-mar02-first", "utc-mar01-last"},
    "Asia/Shanghai": {"sh-mar01-first", "utc-mar01-first", "sh-mar01-last"},
}


class EventSchema(ma.Schema):
    title = ma.fields.String(required=True)


@pytest.fixture
def stored(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str
) -> pymongo.collection.Collection[dict[str, Any]]:
    collection = mongo_client[mongo_db_name]["events"]
    collection.insert_many(
        [{"title": name, "creation_time": at, "update_time": at} for name, at in EDGES.items()]
    )
    # a soft-deleted document on the day: never listed
    collection.insert_one(
        {"title": "gone", "creation_time": EDGES["sh-mar01-last"],
         "update_time": EDGES["sh-mar01-last"], "remove_time": EDGES["sh-mar01-last"]}
    )  # fmt: skip
    return collection


Served = Callable[..., FlaskClient]


@pytest.fixture
def served(rainbond_settings: Settings, stored: Any) -> Iterator[Served]:
    apps: list[Flask] = []

    def make(**config: Any) -> FlaskClient:
        app = serve(rainbond_settings, make_resource(EventSchema, collection="events"), **config)
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        RainbondKit.shutdown(app)


def _titles(client: FlaskClient, **params: str) -> set[str]:
    listed = client.get(URL, query_string={"$limit": "100", **params})
    assert listed.status_code == 200, listed.get_json()
    body = listed.get_json()
    searched = client.post(f"{URL}/search", json={"$limit": 100, **params}).get_json()
    assert searched["items"] == body["items"]
    assert body["total"] == len(body["items"])
    return {item["title"] for item in body["items"]}


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_a_calendar_day_is_midnight_to_midnight_in_the_zone(served: Served, zone: str) -> None:
    """$start_date/$end_date, [eq] and [ne] with 2024-03-01 select exactly that day's documents."""
    client = served(RAINBOND_TIMEZONE=zone)
    day = MARCH_1[zone]
    assert _titles(client, **{"$start_date": "2024-03-01", "$end_date": "2024-3-1",
                              "$date_type": "creation_time"}) == day  # fmt: skip
    assert _titles(client, **{"creation_time[eq]": "2024-03-01"}) == day
    assert _titles(client, **{"creation_time": "2024-03-01"}) == day
    assert _titles(client, **{"creation_time[in]": "2024-03-01"}) == day
    assert _titles(client, **{"creation_time[ne]": "2024-03-01"}) == set(EDGES) - day
    assert _titles(client, **{"creation_time[nin]": "2024-03-01"}) == set(EDGES) - day
    before = {n for n, at in EDGES.items() if at < min(EDGES[d] for d in day)}
    assert _titles(client, **{"creation_time[lt]": "2024-03-01"}) == before
    after = {n for n, at in EDGES.items() if at > max(EDGES[d] for d in day)}
    assert _titles(client, **{"creation_time[gt]": "2024-03-01"}) == after
    assert _titles(client, **{"creation_time[lte]": "2024-03-01"}) == before | day


def test_several_days_are_any_of(served: Served) -> None:
    """creation_time=2024-02-29&creation_time=2024-03-02 (Shanghai): either day."""
    client = served(RAINBOND_TIMEZONE="Asia/Shanghai")
    listed = client.get(
        URL, query_string=[("creation_time", "2024-02-29"), ("creation_time", "2024-03-02")]
    )
    assert {i["title"] for i in listed.get_json()["items"]} == {
        "sh-feb29-last", "sh-mar02-first", "utc-mar01-last", "utc-mar02-first",
    }  # fmt: skip


def test_zone_from_the_environment(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the config key, RAINBOND_TIMEZONE then TZ from the environment decide."""
    monkeypatch.delenv("RAINBOND_TIMEZONE", raising=False)
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    assert _titles(served(), **{"creation_time[eq]": "2024-03-01"}) == MARCH_1["Asia/Shanghai"]
    monkeypatch.setenv("RAINBOND_TIMEZONE", "UTC")
    assert _titles(served(), **{"creation_time[eq]": "2024-03-01"}) == MARCH_1["UTC"]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_a_ten_digit_end_covers_its_whole_second(served: Served, zone: str) -> None:
    """$end_date=<seconds of 15:59:59Z> includes the document at 15:59:59.999Z (any zone)."""
    client = served(RAINBOND_TIMEZONE=zone)
    start = int(EDGES["utc-mar01-first"].timestamp())
    end = int(EDGES["sh-mar01-last"].timestamp())
    params = {"$start_date": str(start), "$end_date": str(end), "$date_type": "creation_time"}
    assert _titles(client, **params) == {"utc-mar01-first", "sh-mar01-last"}
    millis = {**params, "$end_date": str(end * 1000)}  # 13 digits: exact, .999 is after it
    assert _titles(client, **millis) == {"utc-mar01-first"}
    assert _titles(client, **{"creation_time[lte]": str(end)}) == {
        "sh-feb29-last", "sh-mar01-first", "utc-mar01-first", "sh-mar01-last",
    }  # fmt: skip


def test_an_invalid_day_is_a_400_envelope(served: Served) -> None:
    client = served(RAINBOND_TIMEZONE="Asia/Shanghai")
    answer = client.get(URL, query_string={"creation_time[eq]": "2024-02-30"})
    assert answer.status_code == 400
    assert answer.get_json()["errors"].keys() == {"creation_time"}


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_compat_find_paging_follows_the_zone(
    rainbond_settings: Settings, stored: Any, zone: str
) -> None:
    """DBConnect.find_paging's $start_date/$end_date read days in the app's zone too."""
    app = Flask("compat-zone")
    app.config["RAINBOND_TIMEZONE"] = zone
    RainbondKit(app, settings=rainbond_settings)
    try:
        with app.app_context():
            connection = DBConnect(rainbond_settings.mongo.database, "events")
            query = {"$start_date": "2024-03-01", "$end_date": "2024-03-01",
                     "$date_type": "creation_time", "$limit": "100"}  # fmt: skip
            page = connection.find_paging(SimpleNamespace(method="GET", param_url=query))
        assert {d["title"] for d in page["items"]} == MARCH_1[zone]
        assert (page["total"], page["dummy_remove"]) == (len(MARCH_1[zone]), 1)
    finally:
        RainbondKit.shutdown(app)
