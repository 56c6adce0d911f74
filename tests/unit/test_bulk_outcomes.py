"""Issue 17: how a batch decides, after a bulk write matched fewer documents than it wrote to,
which operations took effect (``data.bulk``), over mixed BSON values; no sockets."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from bson import Binary, Decimal128, Int64, ObjectId

from rainbond_kit.data.bulk import Delete, Update, _same, _took_effect

UTC = dt.timezone.utc
WRITTEN = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
STORED = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)  # BSON keeps milliseconds


def _update(sets: dict[str, Any], unsets: frozenset[str] = frozenset()) -> Update:
    return Update(str(ObjectId()), 0, sets, unsets)


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        (STORED, WRITTEN),
        (STORED.replace(tzinfo=None), WRITTEN),
        (Int64(2**40), 2**40),
        (7, Int64(7)),
        (Decimal128("1.10"), Decimal128("1.10")),
        ([1, "a", None, {"b": 2}], [1, "a", None, {"b": 2}]),
        (b"\x00\xff", b"\x00\xff"),  # subtype 0 reads back as bytes
        (Binary(b"\x01", 5), Binary(b"\x01", 5)),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),  # the same JSON object, members in any order
        (uuid.UUID(int=1).hex, uuid.UUID(int=1).hex),
    ],
)
def test_values_that_read_back_the_same_are_the_same(stored: Any, written: Any) -> None:
    """A written value equals what MongoDB stored for it after a BSON round trip (dates to the
    millisecond, aware or naive UTC, 64-bit integers, decimals, lists, bytes, objects)."""
    assert _same(stored, written)


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        (STORED, WRITTEN + dt.timedelta(milliseconds=1)),
        (Decimal128("1.10"), Decimal128("1.1")),
        ("1", 1),
        ([1, 2], [2, 1]),
        (Binary(b"\x01", 5), Binary(b"\x01", 4)),
        (None, 0),
    ],
)
def test_values_that_differ_are_not_the_same(stored: Any, written: Any) -> None:
    """Another type, list order, millisecond or binary subtype: not the operation's effect."""
    assert not _same(stored, written)


def test_an_update_took_effect_only_when_every_path_is_as_written() -> None:
    """Dotted paths are followed into objects; unset members must be absent; a soft-deleted
    or missing document never shows an update's effect."""
    update = _update({"a.b": WRITTEN, "c": 1}, frozenset({"d"}))
    doc: dict[str, Any] = {"a": {"b": STORED}, "c": 1}
    assert _took_effect(update, doc)
    assert not _took_effect(update, {**doc, "d": None})  # present, even null
    assert not _took_effect(update, {**doc, "c": 2})
    assert not _took_effect(update, {"a": "not an object", "c": 1})
    assert not _took_effect(update, {**doc, "remove_time": STORED})
    assert not _took_effect(update, None)


def test_a_delete_took_effect_when_the_document_is_gone_or_soft_deleted() -> None:
    delete = Delete(str(ObjectId()), 0)
    assert _took_effect(delete, None)
    assert _took_effect(delete, {"remove_time": STORED})
    assert not _took_effect(delete, {"title": "still here"})
