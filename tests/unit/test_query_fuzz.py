"""Stronger properties of the list query language: operators, exceptions, literals, cursors.

``tests/unit/test_query.py`` fuzzes random keys; these properties aim at the parser's real
surface: known field names with random operators, repeated query-string values, nested JSON
bodies, the compat layer's open field mode, and every text operator.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from rainbond_kit.compat.db_connect import COMPAT_QUERY_SPEC
from rainbond_kit.errors import BadRequestError
from rainbond_kit.query import QuerySpec, decode_cursor, encode_cursor, parse_list_query
from tests.unit.test_query import SPEC

#: Every operator the parser itself emits into a filter.
EMITTED = frozenset(
    {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex", "$options", "$and", "$or"}
)
OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains", "startswith"]
FUZZ = settings(max_examples=int(os.environ.get("RAINBOND_FUZZ_EXAMPLES", "150")), deadline=None)

_names = st.sampled_from([*SPEC.fields, "remove_time", "_id", "$where", "a.b", "x"])
_keys = st.one_of(
    st.text(max_size=20),
    st.builds(
        lambda n, o: f"{n}[{o}]",
        _names,
        st.one_of(st.sampled_from(OPS), st.text(max_size=8)),
    ),
    _names,
    st.sampled_from(["$limit", "$offset", "$orderby", "$after", "$fields", "$count", "$or"]),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_query_string = st.dictionaries(
    _keys, st.one_of(st.text(max_size=40), st.lists(st.text(max_size=20), min_size=2, max_size=4))
)
_body = st.dictionaries(_keys, _json, max_size=6)


def _walk(node: Any, found: set[str]) -> None:
    """Collect every ``$`` key of a filter, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).startswith("$"):
                found.add(key)
            else:
                assert isinstance(key, str)
                assert "." not in key, key
            _walk(value, found)
    elif isinstance(node, list):
        for item in node:
            _walk(item, found)


def _check(params: dict[str, Any], spec: QuerySpec) -> None:
    try:
        query = parse_list_query(params, spec)
    except BadRequestError:  # a 400 envelope; any other exception fails the property
        return
    found: set[str] = set()
    _walk(query.filter, found)
    assert found <= EMITTED, found - EMITTED
    assert "remove_time" not in query.filter


@FUZZ
@given(_query_string)
def test_query_strings_never_yield_client_operators(params: dict[str, Any]) -> None:
    """Any query string (repeated values too): only emitted operators, else a 400, nothing else."""
    _check(params, SPEC)


@FUZZ
@given(_body)
def test_json_bodies_never_yield_client_operators(params: dict[str, Any]) -> None:
    """Any nested JSON search body: only emitted operators, else a 400, nothing else."""
    _check(params, SPEC)


@FUZZ
@given(st.one_of(_query_string, _body))
def test_open_field_mode_never_yields_client_operators(params: dict[str, Any]) -> None:
    """The compat layer's open field mode is as strict about operators as a typed resource."""
    _check(params, COMPAT_QUERY_SPEC)


_texts = st.text(
    st.one_of(
        st.characters(exclude_categories=["Cs"]),
        st.sampled_from(list(".^$*+?()[]{}|\\/-") + list("图书中文")),
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() and len(s) <= 1000)


@FUZZ
@given(_texts, st.sampled_from(["contains", "icontains", "startswith"]))
def test_escaped_literals_match_themselves(text: str, op: str) -> None:
    """contains/icontains/startswith of any text (metacharacters, CJK) match it literally."""
    condition = parse_list_query({f"title[{op}]": text}, SPEC).filter["title"]
    flags = re.IGNORECASE if condition.get("$options") == "i" else 0
    pattern = re.compile(condition["$regex"], flags)
    assert pattern.search(text)
    assert pattern.search(f"{text}tail")
    if op == "startswith":
        assert pattern.search(f"x{text}") is None or text.startswith("x")
    else:
        assert pattern.search(f"head{text}tail")


_sort_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2400, 1, 1)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, tzinfo=dt.timezone.utc)
    ),
    st.binary(min_size=12, max_size=12).map(ObjectId),
)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["title", "year", "update_time"]),
            st.sampled_from([1, -1]),
            _sort_values,
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda t: t[0],
    ),
    _sort_values,
)
def test_after_cursor_round_trips(keys: list[tuple[str, int, Any]], last_id: Any) -> None:
    """A cursor made from any sort values decodes to exactly those values for the same sort."""
    sort = (*((name, direction) for name, direction, _ in keys), ("_id", 1))
    doc = {name: value for name, _, value in keys} | {"_id": last_id}
    values = decode_cursor(encode_cursor(doc, sort), sort)
    assert values == tuple(doc[name] for name, _ in sort)
    assert [_bson_type(v) for v in values] == [_bson_type(doc[name]) for name, _ in sort]


def _bson_type(value: Any) -> type:
    """The type a value has in BSON terms (an ``Int64`` from Extended JSON is an int)."""
    return int if isinstance(value, int) and not isinstance(value, bool) else type(value)


def _cursor(value: Any) -> str:
    raw = json.dumps({"k": [["update_time", 1], ["_id", 1]], "v": [value, None]}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def test_far_future_cursor_date_decodes_exactly() -> None:
    """Regression (found by test_after_cursor_round_trips): a cursor date keeps its milliseconds.

    ``fromtimestamp(ms / 1000)`` turned 2243-01-01T00:00:00.001 into .000999, so the next
    page repeated the last document of the previous one.
    """
    moment = dt.datetime(2243, 1, 1, 0, 0, 0, 1000, tzinfo=dt.timezone.utc)
    sort = (("update_time", 1), ("_id", 1))
    assert decode_cursor(encode_cursor({"update_time": moment}, sort), sort) == (moment, None)


@pytest.mark.parametrize("millis", [10**20, -(10**20), 2**63])
def test_out_of_range_cursor_date_is_a_400(millis: int) -> None:
    """Regression (found by cursor fuzzing): an out-of-range cursor date is a 400, not a 500."""
    with pytest.raises(BadRequestError, match="malformed cursor"):
        decode_cursor(
            _cursor({"$date": {"$numberLong": str(millis)}}), (("update_time", 1), ("_id", 1))
        )
