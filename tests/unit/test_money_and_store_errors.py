"""Exact decimal JSON, duplicate-key 409s naming their fields, transactions refused on a
standalone server: the pieces without a server."""

from __future__ import annotations

import decimal
import json
from decimal import Decimal
from typing import Any
from unittest import mock

import pymongo
import pymongo.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymongo.server_type import SERVER_TYPE
from pymongo.topology_description import TOPOLOGY_TYPE

from rainbond_kit.data.store_errors import (
    DUPLICATE_KEY_MESSAGE,
    TRANSACTIONS_NEED_A_REPLICA_SET,
    http_error_for,
    store_errors,
)
from rainbond_kit.data.transactions import refuse_standalone
from rainbond_kit.errors import ConflictError, ServiceUnavailableError
from rainbond_kit.resource.decimals import exact_dumps

DUMPS = json.dumps


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_any_finite_decimal_is_a_json_number_with_its_own_digits(value: Decimal) -> None:
    """The text parses back (as Decimal) to the same value and is a number, not a string."""
    text = exact_dumps(DUMPS, {"price": value, "list": [value]})
    parsed = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    assert parsed["price"] == value
    assert parsed["list"] == [value]
    assert '"price": "' not in text


def test_digits_beyond_a_double_survive() -> None:
    """The standard encoder would round 0.1 + 20 digits; the exact one keeps every digit."""
    text = exact_dumps(DUMPS, {"a": Decimal("12345678901234567890.12"), "b": Decimal("0.10")})
    assert text == '{"a": 12345678901234567890.12, "b": 0.10}'


def test_client_text_cannot_forge_a_number() -> None:
    """A string that looks like the marker of another call stays a string (per-call token)."""
    forged = "\x00" + "0" * 16 + ":1"
    text = exact_dumps(DUMPS, {"s": forged, "n": Decimal("1")})
    assert json.loads(text)["s"] == forged


def test_non_finite_decimals_stay_as_the_provider_writes_them() -> None:
    """NaN is no JSON number: left to the provider (here a ``default`` writing a string)."""
    text = exact_dumps(lambda v: json.dumps(v, default=str), {"x": Decimal("NaN")})
    assert json.loads(text) == {"x": "NaN"}


def _duplicate(details: dict[str, Any]) -> pymongo.errors.DuplicateKeyError:
    return pymongo.errors.DuplicateKeyError("E11000", 11000, details)


def test_duplicate_key_names_fields_and_shows_only_readable_values() -> None:
    """keyPattern gives the fields; keyValue is shown only for readable fields."""
    details = {"keyPattern": {"sku": 1, "secret": 1}, "keyValue": {"sku": "A", "secret": "s"}}
    error = http_error_for(_duplicate(details), readable={"sku", "name"})
    assert isinstance(error, ConflictError)
    assert error.data["message"] == "a document with the same sku, secret exists"
    assert error.data["errors"] == {"sku": ["already exists"], "secret": ["already exists"]}
    assert error.data["extra"] == {"duplicate": {"sku": "A"}}
    hidden = http_error_for(_duplicate(details))
    assert hidden is not None
    assert "extra" not in hidden.data


def test_duplicate_key_without_a_pattern_reads_the_index_name() -> None:
    """A server without keyPattern: the index name in the message, against INDEXES."""
    details = {"errmsg": "E11000 duplicate key error collection: d.c index: sku_unique dup key"}
    indexes = [pymongo.IndexModel([("sku", 1), ("shop", -1)], unique=True, name="sku_unique")]
    error = http_error_for(_duplicate(details), indexes=indexes)
    assert error is not None
    assert error.data["errors"] == {"sku": ["already exists"], "shop": ["already exists"]}
    unknown = http_error_for(_duplicate(details))
    assert unknown is not None
    assert unknown.data["message"] == DUPLICATE_KEY_MESSAGE


def test_a_duplicate_inside_a_bulk_write_is_a_409_too() -> None:
    """insert_many's BulkWriteError with a duplicate is a 409, not 'query rejected'."""
    bulk = pymongo.errors.BulkWriteError(
        {"writeErrors": [{"code": 11000, "keyPattern": {"sku": 1}, "keyValue": {"sku": "A"}}]}
    )
    error = http_error_for(bulk, readable={"sku"})
    assert isinstance(error, ConflictError)
    assert error.data["extra"] == {"duplicate": {"sku": "A"}}


def test_transient_transaction_errors_reach_pymongo_retry_then_translate() -> None:
    """Inside a transaction a labelled error passes through (pymongo retries it); once the
    retries end it is a 409 asking to retry."""
    exc = pymongo.errors.OperationFailure("WriteConflict", 112)
    exc._add_error_label("TransientTransactionError")
    with pytest.raises(pymongo.errors.OperationFailure), store_errors():
        raise exc
    with pytest.raises(ConflictError), store_errors(retried_pass=False):
        raise exc


def test_a_transaction_on_a_standalone_server_is_a_503_naming_it() -> None:
    """From the driver's description (no I/O) and from the server's refusal (code 20)."""
    server = mock.Mock(server_type=SERVER_TYPE.Standalone)
    client = mock.Mock()
    client.topology_description.topology_type = TOPOLOGY_TYPE.Single
    client.topology_description.server_descriptions.return_value = {("h", 1): server}
    with pytest.raises(ServiceUnavailableError, match="replica set"):
        refuse_standalone(client)
    client.topology_description.topology_type = TOPOLOGY_TYPE.ReplicaSetWithPrimary
    server.server_type = SERVER_TYPE.RSPrimary
    refuse_standalone(client)  # control: a replica set passes
    refused = pymongo.errors.OperationFailure(
        "Transaction numbers are only allowed on a replica set member or mongos", 20
    )
    error = http_error_for(refused)
    assert isinstance(error, ServiceUnavailableError)
    assert error.data["message"] == TRANSACTIONS_NEED_A_REPLICA_SET


def test_decimal128_context_refuses_35_digits() -> None:
    """The store conversion raises (the codec turns it into a 422), never rounds."""
    from rainbond_kit.resource.decimals import to_decimal128

    with pytest.raises(decimal.DecimalException):
        to_decimal128(Decimal("1" * 35))
    assert str(to_decimal128(Decimal("1" * 34))) == "1" * 34


def test_duplicate_key_names_fields_as_clients_do() -> None:
    """With the schema's names (data_key), the 409 names and shows fields under them."""
    details = {"keyPattern": {"sku_code": 1, "remove_time": 1}, "keyValue": {"sku_code": "A"}}
    error = http_error_for(
        _duplicate(details), readable={"sku_code"}, names={"sku_code": "skuCode"}
    )
    assert error is not None
    assert error.data["message"] == "a document with the same skuCode exists"
    assert error.data["errors"] == {"skuCode": ["already exists"]}
    assert error.data["extra"] == {"duplicate": {"skuCode": "A"}}
