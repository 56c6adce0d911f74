"""Stored documents become JSON-safe public dicts; ids are checked."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from bson import Binary, Decimal128, ObjectId, Timestamp
from hypothesis import given
from hypothesis import strategies as st

from rainbond_kit.data.documents import object_id, to_jsonable, to_public, to_public_list
from rainbond_kit.data.epoch import from_millis, to_millis
from rainbond_kit.errors import BadRequestError

OID = ObjectId("60053fa139842d28d7563c6c")


def test_to_millis_keeps_milliseconds_and_reads_naive_as_utc() -> None:
    """Aware and naive (UTC) datetimes give the same epoch milliseconds, ms kept."""
    aware = datetime(2021, 2, 23, 3, 30, 8, 123456, tzinfo=timezone.utc)
    assert to_millis(aware) == 1614051008123
    assert to_millis(aware.replace(tzinfo=None)) == 1614051008123
    shanghai = aware.astimezone(timezone(timedelta(hours=8)))
    assert to_millis(shanghai) == 1614051008123
    assert to_millis(datetime(1969, 12, 31, 23, 59, 59, tzinfo=timezone.utc)) == -1000


def test_to_public_converts_everything_nested_without_touching_input() -> None:
    """_id -> id, datetimes -> ms everywhere, BSON types -> strings; input unchanged."""
    when = datetime(2021, 2, 23, 3, 30, 8, tzinfo=timezone.utc)
    doc = {
        "_id": OID,
        "title": "标题1",
        "creation_time": when,
        "price": Decimal128("19.99"),
        "exact": Decimal("0.1"),
        "raw": b"\x00\xff",
        "bin": Binary(b"hi"),
        "uid": uuid.UUID(int=1),
        "day": date(2021, 2, 23),
        "ts": Timestamp(1614051008, 1),
        "nested": {"owner": ObjectId("60053fa139842d28d7563c6d"), "at": [when, {"x": when}]},
        "tags": ("a", "b"),
        "none": None,
    }
    before = copy.deepcopy(doc)
    public = to_public(doc)
    assert doc == before
    assert public == {
        "id": "60053fa139842d28d7563c6c",
        "title": "标题1",
        "creation_time": 1614051008000,
        "price": "19.99",
        "exact": "0.1",
        "raw": "AP8=",
        "bin": "aGk=",
        "uid": "00000000-0000-0000-0000-000000000001",
        "day": "2021-02-23",
        "ts": 1614051008000,
        "nested": {
            "owner": "60053fa139842d28d7563c6d",
            "at": [1614051008000, {"x": 1614051008000}],
        },
        "tags": ["a", "b"],
        "none": None,
    }
    assert next(iter(public)) == "id"
    json.dumps(public)


def test_missing_timestamps_are_not_fabricated() -> None:
    """A document without creation_time/update_time gets none."""
    assert to_public({"_id": OID, "name": "x"}) == {"id": str(OID), "name": "x"}


def test_non_objectid_ids_and_lists() -> None:
    """Other _id types become their text; to_public_list maps any iterable."""
    assert to_public_list(iter([{"_id": 7}, {"_id": "abc", "id": "ignored"}])) == [
        {"id": "7"},
        {"id": "abc"},
    ]
    with pytest.raises(TypeError):
        to_public(["not", "a", "document"])  # type: ignore[arg-type]


def test_to_jsonable_scalars_pass_through() -> None:
    """JSON scalars are returned as they are."""
    assert [to_jsonable(v) for v in ("s", 1, 1.5, True, None)] == ["s", 1, 1.5, True, None]


def test_object_id() -> None:
    """24 hex digits or an ObjectId pass; anything else is a 400."""
    assert object_id("60053fa139842d28d7563c6c") == OID
    assert object_id(OID) is OID
    for bad in ("60053fa139842d28d7563c6", "zz053fa139842d28d7563c6c", 123, None, b"123456789012"):
        with pytest.raises(BadRequestError) as info:
            object_id(bad)
        assert info.value.code == 400


@given(st.integers(min_value=-62_135_596_800_000, max_value=253_402_300_799_999))
def test_millis_round_trip_is_exact(millis: int) -> None:
    """from_millis and to_millis are exact inverses (integer arithmetic: no float rounding)."""
    assert to_millis(from_millis(millis)) == millis


def test_from_millis_far_future_keeps_the_millisecond() -> None:
    """2243-01-01T00:00:00.001 survives the trip (a float division gave .000999)."""
    moment = datetime(2243, 1, 1, 0, 0, 0, 1000, tzinfo=timezone.utc)
    assert from_millis(to_millis(moment)) == moment
