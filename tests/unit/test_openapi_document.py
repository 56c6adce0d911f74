"""The OpenAPI document explains itself: operationIds, summaries, typed filters, headers, examples."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask_smorest import Blueprint
from openapi_spec_validator import validate
from sample_app import create_app
from sample_app.books import BookSchema

from rainbond_kit import RainbondKit, ResourceView, Settings, get_api
from rainbond_kit.openapi_examples import envelope_example, field_example
from rainbond_kit.query import parse_list_query
from rainbond_kit.schemas import query_spec_from_schema

BOOKS, ITEM = "/api/v1/books", "/api/v1/books/{item_id}"


class Gadget(ma.Schema):
    """Validators the examples must respect."""

    code = ma.fields.String(required=True, validate=ma.validate.Length(equal=6))
    name = ma.fields.String(validate=ma.validate.Length(min=12, max=20))
    kind = ma.fields.String(validate=ma.validate.OneOf(["tool", "toy"]))
    weight = ma.fields.Float(validate=ma.validate.Range(min=10, max=20, min_inclusive=False))
    stock = ma.fields.Integer(validate=ma.validate.Range(min=5))
    active = ma.fields.Boolean()
    email = ma.fields.Email()
    site = ma.fields.Url()
    added = ma.fields.DateTime()
    labels = ma.fields.List(ma.fields.String(), validate=ma.validate.Length(min=2))
    note = ma.fields.String(metadata={"example": "chosen by hand"})


class Gadgets(ResourceView):
    """Gadgets in stock.

    Second paragraph: not in the descriptions.
    """

    COLLECTION = "gadgets"
    SCHEMA = Gadget
    ETAG = True
    RATE_LIMIT = "100/minute"
    ITEM_NAME = "Gadget"
    DOCS = {"list": {"summary": "Browse the gadgets", "operationId": "browseGadgets"}}  # noqa: RUF012


@pytest.fixture
def books_spec(offline_settings: Settings) -> Iterator[dict[str, Any]]:
    app = create_app(offline_settings, {"TESTING": True})
    yield app.test_client().get("/openapi.json").get_json()
    RainbondKit.shutdown(app)


@pytest.fixture
def gadgets_app(offline_settings: Settings) -> Iterator[Flask]:
    app = Flask("gadgets")
    RainbondKit(app, settings=offline_settings)
    blp = Blueprint("gadgets", __name__, url_prefix="/gadgets")
    Gadgets.register(blp)
    get_api(app).register_blueprint(blp)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def gadgets_spec(gadgets_app: Flask) -> dict[str, Any]:
    spec: dict[str, Any] = gadgets_app.test_client().get("/openapi.json").get_json()
    return spec


def _operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method} {path}": op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    }


def _params(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op.get("parameters", [])}


def test_document_is_valid_openapi_3(books_spec: dict[str, Any]) -> None:
    """openapi-spec-validator accepts the sample app's document."""
    validate(books_spec)
    assert books_spec["openapi"] == "3.0.3"


def test_every_operation_has_a_unique_id_summary_and_tag(books_spec: dict[str, Any]) -> None:
    """Generated operations get stable ids; custom routes keep their own; none is missing."""
    ops = _operations(books_spec)
    ids = {key: op["operationId"] for key, op in ops.items()}
    assert len(set(ids.values())) == len(ids)
    assert {k: v for k, v in ids.items() if k.split(" ")[1].startswith(BOOKS)} == {
        f"get {BOOKS}": "listBooks",
        f"post {BOOKS}": "createBook",
        f"post {BOOKS}/search": "searchBooks",
        f"post {BOOKS}/batch": "batchBooks",
        f"get {ITEM}": "getBook",
        f"put {ITEM}": "replaceBook",
        f"patch {ITEM}": "updateBook",
        f"delete {ITEM}": "deleteBook",
        f"post {ITEM}/reads": "countBookRead",
    }
    assert all(op.get("summary") and op.get("tags") for op in ops.values())
    assert ops[f"get {BOOKS}"]["summary"] == "List books"
    assert ops[f"post {BOOKS}"]["summary"] == "Create a book"
    assert ops[f"post {BOOKS}"]["description"].startswith("Required: `title`, `author`.")


def test_every_filter_and_operator_is_a_typed_parameter(books_spec: dict[str, Any]) -> None:
    """year, year[gte], tags[in] ... are their own parameters with types Swagger UI can fill."""
    params = _params(books_spec["paths"][BOOKS]["get"])
    assert params["year"]["schema"] == {"type": "integer", "format": "int64"}
    assert params["year[gte]"]["schema"] == {"type": "integer", "format": "int64"}
    assert params["year[gte]"]["description"] == "filter: `year` at least"
    assert params["tags[in]"]["schema"]["items"]["type"] == "string"
    assert (params["tags[in]"]["style"], params["tags[in]"]["explode"]) == ("form", False)
    assert params["id[in]"]["schema"]["items"]["pattern"] == "^[0-9a-fA-F]{24}$"
    assert params["title[icontains]"]["schema"]["type"] == "string"
    assert "year[contains]" not in params  # text matching needs a string field
    assert "remove_time" not in params  # the soft-delete marker is never filterable
    assert params["$limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 10,
    }
    assert params["$count"]["schema"] == {
        "type": "string",
        "enum": ["exact", "estimated", "bounded", "none"],
        "default": "exact",
    }
    assert "stops at 1000" in params["$count"]["description"]
    assert params["$offset"]["schema"]["maximum"] == 10000
    assert {"year", "year desc", "title asc"} <= set(params["$orderby"]["schema"]["enum"])
    assert "tags" not in params["$orderby"]["schema"]["enum"]  # list fields do not sort
    assert params["$date_type"]["schema"]["enum"] == ["creation_time", "update_time"]


def test_every_documented_filter_is_accepted_by_the_parser() -> None:
    """Each documented parameter, given a value of its type, parses (the doc never over-promises)."""
    from rainbond_kit.resource.querydocs import list_parameters

    spec = query_spec_from_schema(BookSchema)
    samples = {"integer": "7", "number": "1.5", "boolean": "true"}
    for param in list_parameters(spec):
        name, schema = param["name"], param["schema"]
        if name.startswith("$"):
            continue
        item = schema.get("items", schema)
        value = samples.get(
            item["type"], "2020-10-1" if "date" in item.get("description", "") else "0" * 24
        )
        parse_list_query({name: value}, spec)


def test_search_body_is_typed_from_the_same_spec(books_spec: dict[str, Any]) -> None:
    """/search's body lists the same names with JSON types; unknown keys are refused."""
    body = books_spec["paths"][f"{BOOKS}/search"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    props = schema["properties"]
    assert schema["additionalProperties"] is False
    assert props["$limit"]["maximum"] == 100
    assert props["year[gte]"]["type"] == "integer"
    assert props["tags[in]"]["type"] == "array"
    assert {s["type"] for s in props["author"]["anyOf"]} == {"string", "array"}
    assert set(props) == set(_params(books_spec["paths"][BOOKS]["get"]))


def test_list_and_create_document_their_headers(books_spec: dict[str, Any]) -> None:
    """X-Total-Count, X-Total-Count-Strategy and Link on lists, Location on 201."""
    listed = books_spec["paths"][BOOKS]["get"]["responses"]["200"]["headers"]
    assert listed["X-Total-Count"]["schema"]["type"] == "integer"
    assert "lower bound" in listed["X-Total-Count"]["description"]
    strategy = listed["X-Total-Count-Strategy"]
    assert strategy["schema"] == {
        "type": "string",
        "enum": ["exact", "estimated", "bounded", "none"],
    }
    assert strategy["required"] is True
    assert set(listed) == {"X-Total-Count", "X-Total-Count-Strategy", "Link"}
    created = books_spec["paths"][BOOKS]["post"]["responses"]["201"]["headers"]
    assert created["Location"]["required"] is True


def test_etag_and_rate_limited_resources_document_their_headers(
    gadgets_spec: dict[str, Any],
) -> None:
    """ETAG: ETag on reads and writes, If-Match on PUT/PATCH/DELETE; RATE_LIMIT: X-RateLimit-*."""
    validate(gadgets_spec)
    item = gadgets_spec["paths"]["/gadgets/{item_id}"]
    assert item["get"]["responses"]["200"]["headers"]["ETag"]["required"] is True
    assert "X-RateLimit-Remaining" in item["get"]["responses"]["200"]["headers"]
    for method in ("put", "patch", "delete"):
        assert "If-Match" in _params(item[method]), method
        assert "412" in item[method]["responses"]
    assert "If-Match" not in _params(item["get"])
    assert "429" in item["get"]["responses"]


def test_conditional_reads_are_documented(
    gadgets_spec: dict[str, Any], books_spec: dict[str, Any]
) -> None:
    """An ETag resource's read takes If-None-Match and documents its 304 (with the ETag)."""
    read = gadgets_spec["paths"]["/gadgets/{item_id}"]["get"]
    assert _params(read)["If-None-Match"]["in"] == "header"
    assert read["responses"]["304"]["headers"]["ETag"]["schema"] == {"type": "string"}
    assert "content" not in read["responses"]["304"]
    for method in ("patch", "delete"):
        assert "If-None-Match" not in _params(gadgets_spec["paths"]["/gadgets/{item_id}"][method])
    put = gadgets_spec["paths"]["/gadgets/{item_id}"]["put"]  # issue 17: create if absent
    assert _params(put)["If-None-Match"]["schema"] == {"type": "string", "enum": ["*"]}
    assert "201" in put["responses"]
    plain = books_spec["paths"]["/api/v1/books/{item_id}"]["get"]
    assert "If-None-Match" not in _params(plain)
    assert "304" not in plain["responses"]


def test_docs_overrides_and_item_name(gadgets_spec: dict[str, Any]) -> None:
    """DOCS replaces per operation; ITEM_NAME names the singular; the docstring's first paragraph."""
    ops = _operations(gadgets_spec)
    assert ops["get /gadgets"]["operationId"] == "browseGadgets"
    assert ops["get /gadgets"]["summary"] == "Browse the gadgets"
    assert ops["post /gadgets"]["operationId"] == "createGadget"
    assert ops["get /gadgets/{item_id}"]["summary"] == "Get a gadget"


def test_unknown_docs_operation_is_refused() -> None:
    """A typo in DOCS fails at registration, naming it."""

    class Typo(Gadgets):
        DOCS = {"lsit": {"summary": "x"}}  # noqa: RUF012

    with pytest.raises(ValueError, match="lsit"):
        Typo.register(Blueprint("typo", __name__))


def test_examples_are_valid_and_overridable(gadgets_spec: dict[str, Any]) -> None:
    """Every property's example passes the field's own validators; metadata wins."""
    props = gadgets_spec["components"]["schemas"]["Gadget"]["properties"]
    example = {name: prop["example"] for name, prop in props.items()}
    assert example["note"] == "chosen by hand"
    assert Gadget().load(example) is not None  # raises if any example is invalid
    assert len(example["code"]) == 6
    assert example["kind"] == "tool"
    assert 10 < example["weight"] <= 20


def test_sample_examples_load(books_spec: dict[str, Any]) -> None:
    """The books example is a valid POST body; ids and timestamps have realistic examples."""
    book = books_spec["components"]["schemas"]["Book"]["properties"]
    body = {n: p["example"] for n, p in book.items() if not p.get("readOnly")}
    assert BookSchema().load(body) == body
    item = books_spec["components"]["schemas"]["BooksItem"]["properties"]
    assert len(item["id"]["example"]) == 24
    assert item["update_time"]["example"] > 10**12


def test_error_responses_carry_an_envelope_example(
    books_spec: dict[str, Any], gadgets_spec: dict[str, Any]
) -> None:
    """Each status's response shows an envelope of that status, valid against the envelope schema."""
    from http import HTTPStatus

    from rainbond_kit.envelope import EnvelopeSchema

    seen = set()
    for spec in (books_spec, gadgets_spec):
        for name, response in spec["components"]["responses"].items():
            if name == "DEFAULT_ERROR":
                continue
            code = HTTPStatus[name].value
            example = response["content"]["application/json"]["example"]
            assert example == envelope_example(code)
            assert example["code"] == code
            assert EnvelopeSchema().validate(example) == {}
            seen.add(code)
    assert {400, 404, 409, 412, 415, 422, 429, 503} <= seen


def test_field_example_without_validators() -> None:
    """Plain fields still get a typed example; nested fields are left to their own schema."""
    assert field_example(ma.fields.Integer()) == 1
    assert field_example(ma.fields.String(), "title") == "title"
    assert field_example(ma.fields.Nested(Gadget)) is not None


def test_swagger_ui_is_configured_and_local(
    books_spec: dict[str, Any], offline_settings: Settings
) -> None:
    """/docs persists the token, deep-links operations, enables Try it out, loads no CDN."""
    app = create_app(offline_settings, {"TESTING": True})
    html = app.test_client().get("/docs").get_data(as_text=True)
    RainbondKit.shutdown(app)
    for option in (
        '"persistAuthorization": true',
        '"deepLinking": true',
        '"tryItOutEnabled": true',
    ):
        assert option in html
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert "https://" not in html


def test_the_batch_and_idempotency_are_documented_with_typed_bodies(
    books_spec: dict[str, Any],
) -> None:
    """Issue 17: ``POST /batch`` has a typed request (operations with an ``op`` enum, at most
    ``MAX_BATCH``) and a typed 207 (per-operation results with the error envelope); the writes
    that honour ``Idempotency-Key`` document the header, the reads do not."""
    schemas = books_spec["components"]["schemas"]
    batch = books_spec["paths"][f"{BOOKS}/batch"]["post"]
    ref = batch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = schemas[ref.rsplit("/", 1)[1]]
    assert request["required"] == ["operations"]
    assert request["properties"]["operations"]["maxItems"] == 1000
    item = _ref(request["properties"]["operations"]["items"])
    assert schemas[item]["properties"]["op"]["enum"] == ["create", "update", "delete"]
    response = batch["responses"]["207"]["content"]["application/json"]["schema"]["$ref"]
    body = schemas[response.rsplit("/", 1)[1]]
    assert set(body["required"]) == {"ordered", "succeeded", "failed", "results"}
    result = schemas[_ref(body["properties"]["results"]["items"])]
    assert _ref(result["properties"]["error"]) == "Envelope"
    assert _ref(result["properties"]["item"]) == "BooksItem"
    assert {"413", "422", "415"} <= set(batch["responses"])
    ops = _operations(books_spec)
    for key in (f"post {BOOKS}", f"post {BOOKS}/batch", f"patch {ITEM}"):
        assert _params(ops[key])["Idempotency-Key"]["schema"]["maxLength"] == 255, key
    for key in (f"get {BOOKS}", f"put {ITEM}", f"delete {ITEM}", f"post {BOOKS}/search"):
        assert "Idempotency-Key" not in _params(ops[key]), key


def _ref(schema: dict[str, Any]) -> str:
    """The component a schema refers to (directly or as its one ``allOf`` member)."""
    ref = schema.get("$ref") or schema["allOf"][0]["$ref"]
    return str(ref).rsplit("/", 1)[1]
