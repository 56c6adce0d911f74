"""The read fast path (``resource/codec.py``) is the schema's dump: for generated schemas and
valid documents, storing the loaded values, a BSON round trip and the response form give
exactly ``schema.dump(loaded)``."""

from __future__ import annotations

import re
from typing import Any

import bson
import marshmallow as ma
import pytest
from bson.codec_options import CodecOptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rainbond_kit import ConfigurationError
from rainbond_kit.data.documents import to_public
from rainbond_kit.resource.codec import check_storable, codec_for
from rainbond_kit.resource.writes import merge_patch, replace_changes
from tests.integration.contract_support import FieldSpec, build_schema, documents, field_specs

_BSON = CodecOptions(tz_aware=True)


def _round_trip(stored: dict[str, Any]) -> dict[str, Any]:
    return to_public(bson.decode(bson.encode(stored), codec_options=_BSON))


@given(data=st.data(), specs=field_specs())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_response_form_equals_the_schema_dump(
    data: st.DataObject, specs: tuple[FieldSpec, ...]
) -> None:
    schema = build_schema(specs)
    check_storable(schema)
    codec = codec_for(schema)
    loaded = schema().load(data.draw(documents(specs)))
    assert codec.public(_round_trip(codec.store(loaded))) == schema().dump(loaded)


class Inner(ma.Schema):
    a = ma.fields.String(required=True)
    when = ma.fields.DateTime(data_key="whenKey")


class Outer(ma.Schema):
    title = ma.fields.String(required=True)
    inner = ma.fields.Nested(Inner)
    secret = ma.fields.String(load_only=True)
    reads = ma.fields.Integer(dump_only=True)


def test_identity_codec_only_when_nothing_is_renamed_or_converted() -> None:
    plain = ma.Schema.from_dict({"a": ma.fields.String(), "n": ma.fields.Integer()})
    assert codec_for(plain).identity
    assert not codec_for(Outer).identity
    assert not codec_for(ma.Schema.from_dict({"a": ma.fields.String(data_key="A")})).identity


def test_put_sets_and_removes_only_client_owned_fields() -> None:
    sets, unsets = replace_changes(codec_for(Outer), {"title": "t"})
    assert sets == {"title": "t"}
    assert unsets == {"inner"}  # not the write-only secret, not the dump_only reads


def test_merge_patch_recurses_into_nested_objects_and_null_removes() -> None:
    patch = merge_patch(codec_for(Outer), {"inner": {"a": "x", "when": None}, "title": "t"})
    assert patch.sets == {"inner.a": "x", "title": "t"}
    assert patch.unsets == {"inner.when"}
    assert patch.conditions() == {"inner": {"$type": "object"}}
    assert patch.not_objects({"inner": None}) == ["inner"]
    whole = patch.setting_whole(["inner"])
    assert whole.sets == {"inner": {"a": "x"}, "title": "t"}
    assert whole.conditions() == {}


@pytest.mark.parametrize("field", [ma.fields.TimeDelta(), ma.fields.List(ma.fields.TimeDelta())])
def test_fields_without_an_exact_bson_home_are_refused_by_name(field: Any) -> None:
    schema = ma.Schema.from_dict({"price": field})
    nested = ma.Schema.from_dict({"item": ma.fields.Nested(schema)})
    with pytest.raises(ConfigurationError, match=r"'item\.price'"):
        check_storable(nested)


@pytest.mark.parametrize(
    ("schema", "named"),
    [
        (ma.Schema.from_dict({"title": ma.fields.String()})(unknown=ma.INCLUDE), "itself"),
        (
            ma.Schema.from_dict(
                {"inner": ma.fields.Nested(ma.Schema.from_dict({"a": ma.fields.String()}),
                                           unknown=ma.INCLUDE)}
            ),
            "'inner'",
        ),
        (
            ma.Schema.from_dict(
                {"inner": ma.fields.Nested(
                    ma.Schema.from_dict({"a": ma.fields.String()})(unknown=ma.INCLUDE))}
            ),
            "inner",
        ),
    ],
)  # fmt: skip
def test_unknown_include_is_refused_at_any_depth(schema: Any, named: str) -> None:
    """A schema (or nested one) that keeps unknown members would store a client's remove_time,
    _version or any other field: refused at register() naming where."""
    with pytest.raises(
        ConfigurationError, match=f"SCHEMA (field )?{re.escape(named)}: unknown=INCLUDE"
    ):
        check_storable(schema)


def test_exclude_and_raise_register() -> None:
    """unknown=EXCLUDE (members dropped) and RAISE (the default: 422) are fine."""
    for unknown in (ma.EXCLUDE, ma.RAISE):
        check_storable(ma.Schema.from_dict({"title": ma.fields.String()})(unknown=unknown))
