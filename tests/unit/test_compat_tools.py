"""rainbond_kit.compat.tools behaves as the seed documents, minus the original's bugs."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from bson import ObjectId
from flask import Flask

from rainbond_kit.compat.tools import (
    handle_abnormal,
    handle_date,
    handle_db_dict,
    handle_db_id,
    handle_db_remove,
    handle_db_to_list,
    handle_time_difference,
)
from rainbond_kit.errors import BadRequestError
from tests.unit.compat_app import seed_app

SEED_KEYS = {"code", "message", "server_time", "host_name", "host_ip"}
OID = "60053fa139842d28d7563c6c"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for app in seed_app(monkeypatch):

        @app.route("/api/v1/demo", methods=["GET"])
        def api_demo() -> None:
            handle_abnormal(message="异常信息~~~", status=400)

        @app.get("/other")
        def other() -> None:
            handle_abnormal(
                message="2333~~~", status=400, other={"key1": "value1", "key2": {"a": 1}}
            )

        @app.get("/header")
        def header() -> None:
            handle_abnormal("busy", 429, header={"Retry-After": "5"})

        @app.get("/ok")
        def ok() -> None:
            handle_abnormal("正常", 200, other={"data": [1]})

        yield app


def test_handle_abnormal_seed_example(app: Flask) -> None:
    """The seed's response: code, message, server_time (epoch ms), host_name, host_ip."""
    response = app.test_client().get("/api/v1/demo")
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body.keys() == SEED_KEYS | {"status", "request_id"}
    assert body["code"] == 400
    assert body["message"] == "异常信息~~~"
    assert abs(body["server_time"] - time.time_ns() // 1_000_000) < 5000
    assert "异常信息".encode() in response.get_data()


def test_handle_abnormal_other_is_merged_at_top_level(app: Flask) -> None:
    """other={'key1': 'value1', 'key2': {'a': 1}} adds exactly those keys at top level."""
    body = app.test_client().get("/other").get_json()
    assert body.keys() == SEED_KEYS | {"status", "request_id", "key1", "key2"}
    assert body["key1"] == "value1"
    assert body["key2"] == {"a": 1}
    assert body["message"] == "2333~~~"


def test_handle_abnormal_headers_and_non_error_status(app: Flask) -> None:
    """header= sets response headers; a 2xx status still sends the envelope body."""
    client = app.test_client()
    busy = client.get("/header")
    assert busy.status_code == 429
    assert busy.headers["Retry-After"] == "5"
    ok = client.get("/ok")
    assert ok.status_code == 200
    assert ok.get_json()["data"] == [1]


def test_handle_abnormal_raw(app: Flask) -> None:
    """is_raw=True returns (body, status, headers) instead of raising."""
    with app.app_context():
        body, status, header = handle_abnormal("x", 409, other={"k": 1}, is_raw=True)
    assert status == 409
    assert header == {"Content-Type": "application/json"}
    assert body["code"] == 409
    assert body["k"] == 1
    assert body.keys() >= SEED_KEYS


def test_handle_date_seed_examples() -> None:
    """handle_date('2020-10-1') is that day's start, ('2020-10-31', 'end') its last ms, '' None."""
    assert handle_date(date="2020-10-1") == datetime(2020, 10, 1, tzinfo=timezone.utc)
    assert handle_date(date="2020-10-31", date_type="end") == datetime(
        2020, 10, 31, 23, 59, 59, 999000, tzinfo=timezone.utc
    )
    assert handle_date("") is None
    assert handle_date("1601481600123") == datetime(
        2020, 9, 30, 16, 0, 0, 123000, tzinfo=timezone.utc
    )


def test_handle_date_bad_text_is_400() -> None:
    """Unparseable text is the seed's 400 日期字符串解析异常 with detail in errors."""
    with pytest.raises(BadRequestError) as info:
        handle_date("2020/10/01")
    assert info.value.data["message"] == "日期字符串解析异常"
    assert "expected YYYY-MM-DD" in info.value.data["errors"]["date"][0]


def test_handle_time_difference() -> None:
    """The seed's example is 0.0; ms timestamps keep their fraction; bad input is 400."""
    assert handle_time_difference(start_timestamp=1614051008, end_timestamp=1614051008) == 0.0
    assert handle_time_difference(1614051008000, 1614051009500) == 1.5
    with pytest.raises(BadRequestError) as info:
        handle_time_difference(12345678901, 1)
    assert info.value.data["message"] == "时间戳格式不规范"


def test_handle_db_dict_in_place_and_no_fabricated_times() -> None:
    """As in the seed, the dict is converted in place; missing timestamps stay missing."""
    when = datetime(2021, 2, 23, 3, 30, 8, 250000)
    query_dict = {
        "_id": ObjectId(OID),
        "title": "标题1",
        "update_time": when,
        "n": {"o": ObjectId(OID)},
    }
    result = handle_db_dict(query_dict)
    assert result is query_dict
    assert query_dict == {
        "id": OID,
        "title": "标题1",
        "update_time": 1614051008250,
        "n": {"o": OID},
    }


def test_handle_db_to_list_accepts_any_iterable() -> None:
    """Not only a pymongo Cursor: any iterable of documents (the original raised 500)."""
    docs = [{"_id": ObjectId(OID), "a": 1}]
    assert handle_db_to_list(iter(docs)) == [{"id": OID, "a": 1}]
    assert docs == [{"_id": ObjectId(OID), "a": 1}]


def test_handle_db_id_does_not_mutate() -> None:
    """id strings become ObjectIds in a new dict; the argument is untouched."""
    given = {"id": OID, "name": "x"}
    before = copy.deepcopy(given)
    assert handle_db_id(given) == {"_id": ObjectId(OID), "name": "x"}
    assert given == before
    batch = {"id": {"$in": [OID, ObjectId(OID)]}}
    assert handle_db_id(batch) == {"_id": {"$in": [ObjectId(OID), ObjectId(OID)]}}
    assert batch == {"id": {"$in": [OID, ObjectId(OID)]}}
    assert handle_db_id({"_id": {"$ne": OID}}) == {"_id": {"$ne": ObjectId(OID)}}


@pytest.mark.parametrize(
    "bad", [{"id": "nothex"}, {"_id": {"$in": ["nothex"]}}, {"_id": {"$where": "1"}}]
)
def test_handle_db_id_bad_ids_are_400(bad: dict[str, object]) -> None:
    """Invalid hex or a non-comparison operator is 400 MongoDB _id 格式解析异常."""
    with pytest.raises(BadRequestError) as info:
        handle_db_id(bad)
    assert info.value.data["message"] == "MongoDB _id 格式解析异常"


def test_handle_db_remove() -> None:
    """Soft-deleted documents are filtered out unless the caller asks about remove_time."""
    given = {"a": 1}
    assert handle_db_remove(given) == {"a": 1, "remove_time": {"$exists": False}}
    assert given == {"a": 1}
    assert handle_db_remove({"remove_time": {"$exists": True}}) == {
        "remove_time": {"$exists": True}
    }
