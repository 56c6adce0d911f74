"""The query language's new field kinds: exact decimals, Enum choices, nested names, $expand."""

from __future__ import annotations

from typing import Any

import pytest
from bson import Decimal128

from rainbond_kit.errors import BadRequestError
from rainbond_kit.query import FieldSpec, Kind, QuerySpec, parse_list_query

SPEC = QuerySpec(
    fields={
        "price": FieldSpec(Kind.DECIMAL),
        "status": FieldSpec(Kind.STRING, choices=("pending", "paid")),
        "priority": FieldSpec(Kind.INTEGER, choices=(1, 2)),
        "ship.city": FieldSpec(Kind.STRING, stored="address.city"),
    },
    expandable=frozenset({"customer"}),
)


def _filter(params: dict[str, Any]) -> Any:
    return parse_list_query(params, SPEC).filter


def test_decimal_values_become_exact_decimal128() -> None:
    """Text, JSON numbers and lists become Decimal128 with the client's digits."""
    assert _filter({"price": "12.50"}) == {"price": {"$eq": Decimal128("12.50")}}
    assert _filter({"price[gte]": 0.1}) == {"price": {"$gte": Decimal128("0.1")}}
    big = "12345678901234567890.123456789"
    assert _filter({"price[in]": f"1,{big}"}) == {
        "price": {"$in": [Decimal128("1"), Decimal128(big)]}
    }


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", "1" * 35, True, "1e99999"])
def test_bad_decimals_are_400s_naming_the_parameter(value: Any) -> None:
    with pytest.raises(BadRequestError) as raised:
        _filter({"price": value})
    assert "price" in raised.value.data["errors"]


def test_enum_choices_are_equality_and_closed() -> None:
    """A bare enum value is equality (no *contains*); outside the choices is a 400."""
    assert _filter({"status": "paid"}) == {"status": {"$eq": "paid"}}
    assert _filter({"priority": "2"}) == {"priority": {"$eq": 2}}
    assert _filter({"status[in]": "paid,pending"}) == {"status": {"$in": ["paid", "pending"]}}
    for params in ({"status": "pai"}, {"priority": "3"}, {"status[nin]": "paid,x"}):
        with pytest.raises(BadRequestError):
            _filter(params)


def test_nested_names_map_to_their_stored_path() -> None:
    """``ship.city`` (documented) filters ``address.city`` (stored); unknown paths are 400s."""
    assert _filter({"ship.city[startswith]": "Pa"}) == {"address.city": {"$regex": "^Pa"}}
    with pytest.raises(BadRequestError):
        _filter({"ship.zip": "1"})
    with pytest.raises(BadRequestError):
        _filter({"ship..city": "x"})


def test_expand_names_come_from_the_allow_list() -> None:
    assert parse_list_query({"$expand": "customer, customer"}, SPEC).expand == ("customer",)
    assert parse_list_query({}, SPEC).expand == ()
    with pytest.raises(BadRequestError) as raised:
        parse_list_query({"$expand": "customer,status"}, SPEC)
    assert "$expand" in raised.value.data["errors"]


def test_every_stringlike_marshmallow_field_filters_as_text() -> None:
    """UUID is not a String subclass in marshmallow 4: it is still filterable and sortable
    as the text it is stored as (a generated contract schema found it unsortable)."""
    import marshmallow as ma

    from rainbond_kit.schemas import field_spec

    for field in (ma.fields.UUID(), ma.fields.Email(), ma.fields.Url(), ma.fields.Date()):
        assert field_spec(field) == FieldSpec(Kind.STRING), type(field).__name__
    assert field_spec(ma.fields.List(ma.fields.UUID())) == FieldSpec(Kind.STRING, True)
