"""The list query language parser, without a database."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pytest
from bson import Decimal128, ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from rainbond_kit.data.paging import keyset_filter
from rainbond_kit.errors import BadRequestError
from rainbond_kit.query import (
    FieldSpec,
    Kind,
    QuerySpec,
    decode_cursor,
    encode_cursor,
    parse_list_query,
)

SPEC = QuerySpec(
    fields={
        "title": FieldSpec(Kind.STRING),
        "year": FieldSpec(Kind.INTEGER),
        "price": FieldSpec(Kind.NUMBER),
        "done": FieldSpec(Kind.BOOLEAN),
        "tags": FieldSpec(Kind.STRING, many=True),
        "id": FieldSpec(Kind.OBJECTID),
        "update_time": FieldSpec(Kind.DATETIME),
        "creation_time": FieldSpec(Kind.DATETIME),
    },
    sortable=frozenset({"title", "year", "id", "update_time"}),
    projectable=frozenset({"title", "year", "id"}),
)


def test_defaults() -> None:
    """No parameters: page 1 of 10, sorted by _id, exact count, no filter."""
    q = parse_list_query({}, SPEC)
    assert (q.filter, q.sort, q.limit, q.offset, q.count, q.after, q.fields) == (
        {}, (("_id", 1),), 10, 0, "exact", None, None)  # fmt: skip


def test_typed_filters() -> None:
    """Each kind coerces query-string text to its type; ops build exactly these operators."""
    q = parse_list_query(
        {"title": "a.b(", "year[gte]": "18", "year[lt]": "30", "price": "2.5", "done": "true",
         "tags[in]": "x,y", "id": "65f000000000000000000001"},
        SPEC,
    )  # fmt: skip
    assert q.filter == {
        "title": {"$regex": re.escape("a.b(")},
        "year": {"$gte": 18, "$lt": 30},
        "price": {"$eq": 2.5},
        "done": {"$eq": True},
        "tags": {"$in": ["x", "y"]},
        "_id": {"$eq": ObjectId("65f000000000000000000001")},
    }


def test_repeated_query_values_mean_any_of() -> None:
    """A list value (repeated parameter or JSON list) is '$in'."""
    assert parse_list_query({"year": ["1", "2"]}, SPEC).filter == {"year": {"$in": [1, 2]}}


def test_same_operator_twice_goes_to_and() -> None:
    """Two conditions with the same operator on one field are both kept."""
    q = parse_list_query({"title": "a", "title[contains]": "b"}, SPEC)
    assert q.filter == {"$and": [{"title": {"$regex": "a"}}, {"title": {"$regex": "b"}}]}


def test_date_range_end_covers_day() -> None:
    """$end_date as a date ends at its last millisecond; the range lands on $date_type."""
    q = parse_list_query({"$start_date": "2020-10-1", "$end_date": "2020-10-1",
                          "$date_type": "creation_time"}, SPEC)  # fmt: skip
    utc = dt.timezone.utc
    assert q.filter == {"creation_time": {
        "$gte": dt.datetime(2020, 10, 1, tzinfo=utc),
        "$lte": dt.datetime(2020, 10, 1, 23, 59, 59, 999000, tzinfo=utc)}}  # fmt: skip
    stamp = parse_list_query({"$start_date": "1601481600", "$end_date": "1601481600000"}, SPEC)
    assert stamp.filter["update_time"]["$gte"] == dt.datetime(2020, 9, 30, 16, tzinfo=utc)


def test_orderby_tolerates_spaces_and_adds_tiebreaker() -> None:
    """'a desc, b asc' parses; _id is appended so keyset pages are stable."""
    q = parse_list_query({"$orderby": "year desc, title asc"}, SPEC)
    assert q.sort == (("year", -1), ("title", 1), ("_id", 1))
    assert parse_list_query({"$orderby": "id desc"}, SPEC).sort == (("_id", -1),)


@pytest.mark.parametrize(
    "params",
    [{"title": {"$ne": ""}}, {"title": ["a", {"$gt": ""}]}, {"year": True}, {"title": 5},
     {"title[$regex]": "x"}, {"$where": "1"}, {"a.b": "x"}, {"remove_time": "x"}, {"_id": "x"},
     {"title": "x" * 1001}, {"year[in]": ",".join(["1"] * 101)}, {"$limit": "1e3"}, {"$limit": True}],
)  # fmt: skip
def test_refused(params: dict[str, Any]) -> None:
    """Operators, objects, hidden fields, over-long values and odd types are 400s."""
    with pytest.raises(BadRequestError):
        parse_list_query(params, SPEC)


def test_open_fields_mode_for_compat() -> None:
    """The compat mode accepts any plain name, keeps JSON numbers exact, hides remove_time."""
    spec = QuerySpec(fields={}, open_fields=True)
    q = parse_list_query({"name": "sb", "age": 23, "flag": False}, spec)
    assert q.filter == {"name": {"$regex": "sb"}, "age": {"$eq": 23}, "flag": {"$eq": False}}
    with pytest.raises(BadRequestError):
        parse_list_query({"remove_time": "x"}, spec)
    with pytest.raises(BadRequestError):
        parse_list_query({"age": {"$gt": 1}}, spec)


def test_cursor_round_trip_and_keyset_filter() -> None:
    """A cursor encodes the last document's sort values; keyset_filter selects strictly after it."""
    sort = (("year", -1), ("title", 1), ("_id", 1))
    oid = ObjectId()
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=dt.timezone.utc)
    cursor = encode_cursor({"year": 5, "title": "t", "_id": oid, "x": when}, sort)
    values = decode_cursor(cursor, sort)
    assert values == (5, "t", oid)
    after_text = ["object", "array", "binData", "objectId", *AFTER_ID]
    assert keyset_filter(sort, values) == {"$or": [
        {"$or": [{"year": {"$lt": 5}}, {"year": {"$in": [math.nan, Decimal128("NaN")]}}, {"year": None}]},
        {"year": 5, "$or": [{"title": {"$gt": "t"}}, {"title": {"$type": after_text}}]},
        {"year": 5, "title": "t", "$or": [{"_id": {"$gt": oid}}, {"_id": {"$type": AFTER_ID}}]},
    ]}  # fmt: skip
    dated = (("update_time", 1), ("_id", 1))
    assert decode_cursor(encode_cursor({"update_time": when, "_id": oid}, dated), dated)[0] == when
    with pytest.raises(BadRequestError, match="another"):
        decode_cursor(cursor, (("_id", 1),))


#: the ``$type`` names sorting after / before an ObjectId in MongoDB's cross-type order
AFTER_ID = ["bool", "date", "timestamp", "regex", "maxKey"]
BEFORE_ID = ["int", "long", "double", "decimal", "string", "symbol", "object", "array", "binData"]


def test_null_sort_values_in_keyset() -> None:
    """Nulls sort first ascending: after a null comes any non-null; descending: nothing smaller."""
    sort = (("year", 1), ("_id", 1))
    oid = ObjectId()
    after_id = {"$or": [{"_id": {"$gt": oid}}, {"_id": {"$type": AFTER_ID}}]}
    assert keyset_filter(sort, (None, oid)) == {
        "$or": [{"year": {"$ne": None}}, {"year": None, **after_id}]}  # fmt: skip
    before_id = [{"_id": {"$lt": oid}}, {"_id": {"$type": BEFORE_ID}}, {"_id": None}]
    assert keyset_filter((("year", -1), ("_id", -1)), (None, oid)) == {
        "$or": [{"year": None, "$or": before_id}]}  # fmt: skip


@pytest.mark.parametrize("tampered", ["", "e30", "eyJrIjpbXSwidiI6W3siJGd0IjoiIn1dfQ", "!!!"])
def test_tampered_cursors_are_400(tampered: str) -> None:
    """Garbage, empty or operator-carrying cursors are refused."""
    with pytest.raises(BadRequestError):
        decode_cursor(tampered, (("_id", 1),))


_json_leaf = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)
_json = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)  # fmt: skip


def _operators(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {k for k in value if k.startswith("$")}
        for v in value.values():
            found |= _operators(v)
        return found
    if isinstance(value, list):
        return set().union(*(_operators(v) for v in value)) if value else set()
    return set()


ALLOWED_OPERATORS = {
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$regex",
    "$options",
    "$and",
}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=15), _json, max_size=6))
def test_arbitrary_input_never_yields_client_operators(params: dict[str, Any]) -> None:
    """Any JSON object either parses to a filter with only our operators, or raises a 400."""
    try:
        q = parse_list_query(params, SPEC)
    except BadRequestError:
        return
    assert _operators(q.filter) <= ALLOWED_OPERATORS


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=50).filter(lambda s: s.strip()))
def test_escaped_text_matches_itself(text: str) -> None:
    """The regex built from any text matches that exact text as a literal."""
    pattern = parse_list_query({"title": text}, SPEC).filter["title"]["$regex"]
    assert re.search(pattern, f"prefix{text}suffix")
