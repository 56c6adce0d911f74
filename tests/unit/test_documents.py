"""Stored documents -> public JSON form (``to_public`` / ``to_json_value``)."""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import uuid

from bson import Binary, Decimal128, ObjectId, Regex

from rainbond_kit.documents import to_json_value, to_public

OID = ObjectId("64b7f0c2a1b2c3d4e5f60718")
WHEN = dt.datetime(2021, 3, 4, 5, 6, 7, 123000, tzinfo=dt.timezone.utc)
WHEN_MS = 1614834367123


def test_to_public_converts_id_timestamps_and_nested_values() -> None:
    """``_id`` becomes ``id`` first; datetimes (also naive, nested, in lists) become epoch ms."""
    doc = {
        "title": "t",
        "_id": OID,
        "year": 2008,
        "score": 1.5,
        "ok": True,
        "none": None,
        "tags": ["a", WHEN, OID, [1]],
        "meta": {"at": WHEN.replace(tzinfo=None), 3: "three"},
        "update_time": WHEN,
    }
    assert list(to_public(doc)) == [
        "id",
        "title",
        "year",
        "score",
        "ok",
        "none",
        "tags",
        "meta",
        "update_time",
    ]
    assert to_public(doc) == {
        "id": str(OID),
        "title": "t",
        "year": 2008,
        "score": 1.5,
        "ok": True,
        "none": None,
        "tags": ["a", WHEN_MS, str(OID), [1]],
        "meta": {"at": WHEN_MS, "3": "three"},
        "update_time": WHEN_MS,
    }


def test_to_json_value_handles_subclasses_and_rare_bson_types_like_exact_types() -> None:
    """Subclasses (OrderedDict, tuple, str subclass) and rare BSON types take the general path."""

    class Name(str):
        pass

    assert to_json_value(collections.OrderedDict(a=WHEN)) == {"a": WHEN_MS}
    assert to_json_value((OID, 1)) == [str(OID), 1]
    assert to_json_value(Name("x")) == "x"
    assert to_json_value(Decimal128("1.10")) == "1.10"
    assert to_json_value(decimal.Decimal("2.5")) == "2.5"
    assert to_json_value(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert to_json_value(Binary(b"\x00\x01")) == "AAE="
    assert to_json_value(Regex("^a")) == "^a"
    assert to_json_value(dt.date(2020, 1, 2)) == "2020-01-02"
