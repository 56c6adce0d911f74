"""Hostile input against the sample app and a seed-style compat view: every refusal is the JSON
error envelope with a status the operation documents, no ERROR log line, nothing stored.

Complements ``test_contract_hostile.py`` (generated resources), ``test_security.py`` (operator
injection, traversal, CORS) and the file-store suites; each case here names the input that
once got through and the mechanism that let it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from rainbond_kit import RainbondKit, Settings
from rainbond_kit.compat.db_connect import DBConnect
from rainbond_kit.compat.parameter import Parameter
from tests.integration._filestore_support import multipart
from tests.integration.contract_support import make_resource, post_json, serve

JSON = "application/json"
SEED = "/api/v1/seed"
BOOKS = "/api/v1/books"
ENVELOPE_KEYS = {"code", "status", "message", "server_time", "host_name", "host_ip"}
MongoClient = pymongo.MongoClient[dict[str, Any]]


def _documented(app: Flask, client: FlaskClient, method: str, path: str) -> set[str]:
    """The statuses the app's own OpenAPI document lists for the operation serving ``path``."""
    rule, _ = app.url_map.bind("localhost").match(path, method=method, return_rule=True)
    template = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
    document = client.get("/openapi.json").get_json()
    return set(document["paths"][template][method.lower()]["responses"])


def _refused(response: Any, status: int) -> dict[str, Any]:
    """``response`` is the envelope of ``status`` (with no trace of a stack)."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body: dict[str, Any] = response.get_json()
    assert body.keys() >= ENVELOPE_KEYS
    assert body["code"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def _no_error_logs(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


# --- a seed-style compat view: the client's document goes to the store as sent -------------


@pytest.fixture
def seed_app(rainbond_settings: Settings) -> Iterator[Flask]:
    """rainbond-python's README pattern: POST stores ``param_json``, PUT updates
    ``{"find", "modify"}``, DELETE removes what the body names, GET pages."""
    app = Flask("seed_probe")
    app.config["TESTING"] = True
    RainbondKit(app, settings=rainbond_settings)

    @app.route(SEED, methods=["GET", "POST", "PUT", "DELETE"])
    def seed() -> Any:
        parameter = Parameter(request)
        db = DBConnect(db=rainbond_settings.mongo.database, collection="seed")
        if parameter.method == "POST":
            return {"new_id": db.write_one_docu(docu=parameter.param_json)}
        if parameter.method == "PUT":
            body = parameter.param_json
            return db.update_docu(find_docu=body["find"], modify_docu=body["modify"])
        if parameter.method == "DELETE":
            return db.delete_docu(find_docu=parameter.param_json)
        return db.find_paging(parameter)

    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def seed_docs(mongo_client: MongoClient, mongo_db_name: str) -> Any:
    """Callable: the stored seed documents (``_id`` and timestamps left out)."""
    collection = mongo_client[mongo_db_name]["seed"]
    skip = {"_id": 0, "creation_time": 0, "update_time": 0}
    return lambda: list(collection.find({}, skip).sort("n", 1))


NUL_KEY_BODIES = [
    ("POST", '{"\\u0000": 1}'),
    ("POST", '{"n": 2, "a\\u0000b": 1}'),
    ("POST", '{"n": 2, "deep": [{"x": {"\\u0000": 1}}]}'),
    ("PUT", '{"find": {"n": 1}, "modify": {"\\u0000": 1}}'),
    ("PUT", '{"find": {"\\u0000": 1}, "modify": {"n": 5}}'),
    ("DELETE", '{"\\u0000": 1}'),
]


@pytest.mark.parametrize(("method", "body"), NUL_KEY_BODIES)
def test_nul_in_a_json_key_is_a_400_and_changes_nothing(
    seed_app: Flask, seed_docs: Any, caplog: pytest.LogCaptureFixture, method: str, body: str
) -> None:
    """A NUL character in an object key (``{"\\u0000": 1}``) is valid JSON but no BSON key:
    the body loader let it through and pymongo's ``InvalidDocument`` surfaced as a 500 with an
    ERROR log. It is a 400 envelope now, and the stored document is unchanged."""
    client = seed_app.test_client()
    assert client.post(SEED, json={"n": 1, "v": "kept"}).status_code == 200  # control
    before = seed_docs()
    response = client.open(SEED, method=method, data=body, content_type=JSON)
    message = _refused(response, 400)["message"]
    assert message == "an object key in the body holds a NUL character"
    assert seed_docs() == before == [{"n": 1, "v": "kept"}]
    _no_error_logs(caplog)


def test_nul_in_a_form_key_stored_raw_is_a_400_and_stores_nothing(
    rainbond_settings: Settings, seed_docs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A compat view that stores ``param_form`` as sent (no JSON body loader on the way): a
    form key with a NUL character made pymongo's ``InvalidDocument`` a 500 with an ERROR log;
    the store's error translation makes it a 400 envelope, nothing stored."""
    app = Flask("seed_form_probe")
    app.config["TESTING"] = True
    RainbondKit(app, settings=rainbond_settings)

    @app.post("/form")
    def form() -> Any:
        db = DBConnect(db=rainbond_settings.mongo.database, collection="seed")
        return {"new_id": db.write_one_docu(docu=Parameter(request).param_form)}

    try:
        client = app.test_client()
        assert client.post("/form", data={"n": "1"}).status_code == 200  # control
        before = seed_docs()
        message = _refused(client.post("/form", data={"a\x00b": "x"}), 400)["message"]
        assert message == (
            "the document cannot be stored: a key holds a NUL character or a value has no BSON form"
        )
        assert seed_docs() == before == [{"n": "1"}]
        _no_error_logs(caplog)
    finally:
        RainbondKit.shutdown(app)


NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "[1, 2e308]"]


@pytest.mark.parametrize("number", NON_FINITE)
def test_non_finite_numbers_are_refused_before_the_store(
    seed_app: Flask, seed_docs: Any, caplog: pytest.LogCaptureFixture, number: str
) -> None:
    """Python's JSON parser reads ``NaN``, ``Infinity`` and overflowing literals (``1e400``)
    as floats; stored, they came back as ``"a": Infinity`` in every list response, which no
    strict JSON client parses. Refused as a 400 now; nothing is stored."""
    client = seed_app.test_client()
    response = client.post(SEED, data=f'{{"n": 1, "a": {number}}}', content_type=JSON)
    message = _refused(response, 400)["message"]
    assert message == "a number in the body is not finite (NaN, Infinity or beyond 64-bit floats)"
    assert seed_docs() == []
    _no_error_logs(caplog)


def test_the_largest_finite_double_is_stored_and_listed_as_strict_json(
    seed_app: Flask, seed_docs: Any
) -> None:
    """Control: the double range's edges are stored exactly and listed as strict JSON."""
    client = seed_app.test_client()
    edges = {"n": 1, "max": 1.7976931348623157e308, "min": -1.7976931348623157e308, "tiny": 5e-324}
    assert client.post(SEED, json=edges).status_code == 200
    assert seed_docs() == [edges]
    listed = client.get(SEED).get_data(as_text=True)

    def strict(constant: str) -> Any:
        raise AssertionError(f"non-JSON constant {constant} in a response")

    items = json.loads(listed, parse_constant=strict)["items"]
    assert [(i["max"], i["min"], i["tiny"]) for i in items] == [
        (edges["max"], edges["min"], edges["tiny"])
    ]


# --- the sample app ----------------------------------------------------------------------


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e400"])
def test_non_finite_numbers_in_resource_writes_are_422(
    app: Flask, client: FlaskClient, number: str
) -> None:
    """The generated writes refuse non-finite numbers as they refuse integers past 64 bits:
    a 422 naming the body, which POST/PUT/PATCH document; the book is unchanged."""
    created = client.post(BOOKS, json={"title": "t", "author": "a", "year": 1})
    item = f"{BOOKS}/{created.get_json()['id']}"
    before = client.get(item).get_json()
    for method, url, body in (
        ("POST", BOOKS, f'{{"title": "t", "author": "a", "year": {number}}}'),
        ("PUT", item, f'{{"title": "t", "author": "a", "year": {number}}}'),
        ("PATCH", item, f'{{"year": {number}}}'),
    ):
        response = client.open(url, method=method, data=body, content_type=JSON)
        refused = _refused(response, 422)
        assert refused["errors"] == {
            "json": ["a number in the body is not finite (NaN, Infinity or beyond 64-bit floats)"]
        }
        assert "422" in _documented(app, client, method, url)
    assert client.get(item).get_json() == before
    assert client.get(BOOKS).get_json()["total"] == 1


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_daily_report_of_the_calendar_s_last_and_first_days_is_200(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, day: str
) -> None:
    """``GET /orders/report?day=9999-12-31``: the day is a valid ``Date``, but the report's
    end bound (the next midnight) overflowed Python's datetime: a 500 with an ERROR log. The
    last day has no next midnight to stop at; it reports like any other day."""
    response = client.get("/api/v1/orders/report", query_string={"day": day})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json() == {"day": day, "orders": 0, "total": "0.00"}
    _no_error_logs(caplog)


def test_the_daily_report_still_ends_at_the_next_midnight(client: FlaskClient) -> None:
    """Control: a paid order of today counts today only, not yesterday or tomorrow."""
    customer = client.post("/api/v1/customers", json={"name": "C"}).get_json()
    product = client.post("/api/v1/products", json={"name": "P", "price": "2.50"}).get_json()
    lines = [{"product_id": product["id"], "quantity": 3}]
    order = client.post("/api/v1/orders", json={"customer_id": customer["id"], "items": lines})
    assert order.status_code == 201
    paid = client.post(f"/api/v1/orders/{order.get_json()['id']}/pay", json={"method": "card"})
    assert paid.status_code == 200
    today = dt.datetime.now(dt.timezone.utc).date()
    counted = {}
    for offset in (-1, 0, 1):
        day = (today + dt.timedelta(days=offset)).isoformat()
        report = client.get("/api/v1/orders/report", query_string={"day": day}).get_json()
        counted[offset] = (report["orders"], report["total"])
    assert counted == {-1: (0, "0.00"), 0: (1, "7.50"), 1: (0, "0.00")}


@pytest.mark.parametrize("body", ["null", "[]", '"title"', "5", "true"])
def test_a_search_body_that_is_not_an_object_is_400(
    app: Flask, client: FlaskClient, body: str
) -> None:
    """``POST /books/search`` with the JSON ``null`` was read as no body at all and listed
    every book; like an array or a scalar it is a 400 now. Controls: no body and ``{}``."""
    assert client.post(BOOKS, json={"title": "t", "author": "a"}).status_code == 201
    refused = _refused(client.post(f"{BOOKS}/search", data=body, content_type=JSON), 400)
    assert refused["message"] == "the search body must be a JSON object"
    assert "400" in _documented(app, client, "POST", f"{BOOKS}/search")
    for control in ("", "{}"):
        listed = client.post(f"{BOOKS}/search", data=control, content_type=JSON)
        assert (listed.status_code, listed.get_json()["total"]) == (200, 1)


# --- PUT + If-None-Match: * creates through the create schema --------------------------------


class NoteSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    year = ma.fields.Integer()


class NoteUpdateSchema(ma.Schema):
    """What PUT/PATCH may change: ``title`` is optional here."""

    title = ma.fields.String(validate=ma.validate.Length(min=1))
    year = ma.fields.Integer()


@pytest.fixture
def notes(rainbond_settings: Settings) -> Iterator[Flask]:
    resource = make_resource(NoteSchema, collection="notes", UPDATE_SCHEMA=NoteUpdateSchema)
    app = serve(rainbond_settings, resource, prefix="/notes")
    yield app
    RainbondKit.shutdown(app)


def test_put_if_none_match_star_validates_the_create_schema(
    notes: Flask, mongo_client: MongoClient, mongo_db_name: str
) -> None:
    """``PUT /notes/<id>`` with ``If-None-Match: *`` creates a document, but its body was only
    loaded by the PUT schema (from ``UPDATE_SCHEMA``): ``{"year": 1}`` was stored as a note
    without its required ``title``. The create schema applies too now: 422 naming the field,
    nothing stored; a body the create schema accepts is created (control)."""
    client = notes.test_client()
    missing = client.put(f"/notes/{'a' * 24}", json={"year": 1}, headers={"If-None-Match": "*"})
    refused = _refused(missing, 422)
    assert refused["errors"] == {"json": {"title": ["Missing data for required field."]}}
    assert "422" in _documented(notes, client, "PUT", f"/notes/{'a' * 24}")
    assert mongo_client[mongo_db_name]["notes"].count_documents({}) == 0
    created = client.put(
        f"/notes/{'b' * 24}", json={"title": "t", "year": 1}, headers={"If-None-Match": "*"}
    )
    assert created.status_code == 201
    assert {k: created.get_json()[k] for k in ("id", "title", "year")} == {
        "id": "b" * 24,
        "title": "t",
        "year": 1,
    }


def test_put_if_none_match_star_on_orders_is_422_not_500(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The sample's orders: a PUT body (``OrderUpdateSchema``: status, note) was handed to
    ``before_insert``, which reads the line items the create schema requires: KeyError, a
    500 with an ERROR log. Now a 422 naming the missing members; no order is stored."""
    url = f"/api/v1/orders/{'c' * 24}"
    response = client.put(url, json={"status": "pending"}, headers={"If-None-Match": "*"})
    refused = _refused(response, 422)
    assert refused["errors"] == {
        "json": {
            "customer_id": ["Missing data for required field."],
            "items": ["Missing data for required field."],
        }
    }
    assert client.get("/api/v1/orders").get_json()["total"] == 0
    _no_error_logs(caplog)


# --- If-None-Match on writes -----------------------------------------------------------------


def test_if_none_match_star_stops_writes_to_an_existing_document(client: FlaskClient) -> None:
    """RFC 9110 13.1.2: ``If-None-Match: *`` is false when the document exists, and a false
    precondition on a write is a 412. ``PATCH`` and ``DELETE`` ignored the header: a client
    asking "only if absent" deleted the book. Now 412 and the book is unchanged; on a missing
    id the answer stays 404 (the condition is not evaluated)."""
    created = client.post(BOOKS, json={"title": "t", "author": "a"}).get_json()
    item = f"{BOOKS}/{created['id']}"
    star = {"If-None-Match": "*"}
    for method, body in (("PATCH", {"year": 2}), ("DELETE", None)):
        response = client.open(item, method=method, json=body, headers=star)
        assert _refused(response, 412)["message"] == "If-None-Match matches the current document"
    assert client.get(item).get_json() == created
    missing = client.delete(f"{BOOKS}/{'d' * 24}", headers=star)
    assert _refused(missing, 404)["message"] == f"no document with id {'d' * 24}"


def test_if_none_match_naming_the_current_etag_stops_writes(client: FlaskClient) -> None:
    """On an ``ETAG`` resource a write whose ``If-None-Match`` lists the current ETag (weak or
    strong) is a 412; another tag lets the write through (control)."""
    customer = client.post("/api/v1/customers", json={"name": "C"}).get_json()
    product = client.post("/api/v1/products", json={"name": "P", "price": "1.00"}).get_json()
    lines = [{"product_id": product["id"], "quantity": 1}]
    order = client.post("/api/v1/orders", json={"customer_id": customer["id"], "items": lines})
    url, etag = f"/api/v1/orders/{order.get_json()['id']}", order.headers["ETag"]
    for header in (etag, f"W/{etag}", f'"77", {etag}'):
        for method, body in (("PATCH", {"note": "x"}), ("PUT", {"status": "pending"})):
            response = client.open(url, method=method, json=body, headers={"If-None-Match": header})
            _refused(response, 412)
        _refused(client.delete(url, headers={"If-None-Match": header}), 412)
    assert client.get(url).headers["ETag"] == etag
    patched = client.patch(url, json={"note": "x"}, headers={"If-None-Match": '"77"'})
    assert (patched.status_code, patched.get_json()["note"]) == (200, "x")


def test_if_none_match_star_stops_a_file_delete(app: Flask, client: FlaskClient) -> None:
    """The twin on ``/files``: ``DELETE`` with ``If-None-Match: *`` removed the attachment.
    It is the documented 412 now, the file still downloads; without the header it goes."""
    data, content_type = multipart(b"some notes\n")
    uploaded = client.post("/api/v1/files", data=data, content_type=content_type)
    assert uploaded.status_code == 201
    url = f"/api/v1/files/{uploaded.get_json()['id']}"
    refused = _refused(client.delete(url, headers={"If-None-Match": "*"}), 412)
    assert refused["message"] == "If-None-Match matches the current document"
    assert "412" in _documented(app, client, "DELETE", url)
    assert client.get(f"{url}/content").get_data() == b"some notes\n"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_if_none_match_star_stops_an_item_action(client: FlaskClient) -> None:
    """Item actions write too: ``POST /orders/<id>/cancel`` with ``If-None-Match: *``
    cancelled the order. A 412 now, the order stays pending; a ``GET`` item action is no
    write and unaffected (covered by the report tests above, a collection action)."""
    customer = client.post("/api/v1/customers", json={"name": "C"}).get_json()
    product = client.post("/api/v1/products", json={"name": "P", "price": "1.00"}).get_json()
    lines = [{"product_id": product["id"], "quantity": 1}]
    order = client.post("/api/v1/orders", json={"customer_id": customer["id"], "items": lines})
    url = f"/api/v1/orders/{order.get_json()['id']}"
    refused = _refused(client.post(f"{url}/cancel", headers={"If-None-Match": "*"}), 412)
    assert refused["message"] == "If-None-Match matches the current document"
    assert client.get(url).get_json()["status"] == "pending"
    cancelled = client.post(f"{url}/cancel", headers={"If-None-Match": '"77"'})
    assert (cancelled.status_code, cancelled.get_json()["status"]) == (200, "cancelled")


@pytest.mark.parametrize("name", ["a" * 252 + ".txt", "报" * 84 + ".txt"], ids=["ascii", "cjk"])
def test_a_file_name_past_255_bytes_is_refused(
    client: FlaskClient, mongo_client: MongoClient, mongo_db_name: str, name: str
) -> None:
    """A 70,000-character file name was stored, then sent back in every download's
    ``Content-Disposition`` (twice, the second percent-encoded: 210 KB of header, past what
    proxies such as nginx accept, so the file could never be downloaded through one). Names
    are capped at 255 UTF-8 bytes (what file systems allow): 400, nothing stored."""
    data, content_type = multipart(b"some notes\n", filename=name)
    refused = _refused(client.post("/api/v1/files", data=data, content_type=content_type), 400)
    message = "the file name is longer than 255 bytes (UTF-8)"
    assert (refused["message"], refused["errors"]) == (message, {"body": [message]})
    db = mongo_client[mongo_db_name]
    stored = [db[f"attachments.{c}"].count_documents({}) for c in ("files", "chunks")]
    assert stored == [0, 0]


def test_a_file_name_of_255_bytes_is_stored(client: FlaskClient) -> None:
    """Control: exactly 255 bytes (3-byte characters included) is a name like any other."""
    name = "报" * 83 + "ab.txt"
    assert len(name.encode()) == 255
    data, content_type = multipart(b"some notes\n", filename=name)
    uploaded = client.post("/api/v1/files", data=data, content_type=content_type)
    assert (uploaded.status_code, uploaded.get_json()["filename"]) == (201, name)


# --- bodies under the size limit whose documents are over MongoDB's -------------------------


class NumbersSchema(ma.Schema):
    nums = ma.fields.List(ma.fields.Integer())


#: 3 MB of JSON (under the 16 MiB body limit); ~19 MB once BSON (each 1 takes ~13 bytes)
HUGE_ARRAY = "[" + ",".join(["1"] * 1_500_000) + "]"
TOO_LARGE = "the document is larger than MongoDB stores (16 MiB of BSON)"


def test_a_document_too_large_for_mongodb_is_422_in_a_resource(
    rainbond_settings: Settings,
    mongo_client: MongoClient,
    mongo_db_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A JSON body under ``MAX_CONTENT_LENGTH`` can still grow past MongoDB's 16 MiB document
    limit when encoded (small numbers in a long array): pymongo's ``DocumentTooLarge`` was an
    unhandled 500 with an ERROR log. It is a 422 (documented on the write), nothing stored."""
    app = serve(rainbond_settings, make_resource(NumbersSchema, collection="numbers"))
    try:
        client = app.test_client()
        response = post_json(client, "/things", f'{{"nums": {HUGE_ARRAY}}}')
        assert _refused(response, 422)["message"] == TOO_LARGE
        assert "422" in _documented(app, client, "POST", "/things")
        assert mongo_client[mongo_db_name]["numbers"].count_documents({}) == 0
        assert client.post("/things", json={"nums": [1] * 1000}).status_code == 201  # control
    finally:
        RainbondKit.shutdown(app)
    _no_error_logs(caplog)


def test_a_document_too_large_in_a_batch_is_its_operations_422_and_never_logged(
    rainbond_settings: Settings,
    mongo_client: MongoClient,
    mongo_db_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """In a batch the server refuses the oversized create (write error 10334): that operation
    answers the same 422 as a single create, the others run, and no log line carries the
    client's document (the driver's error details hold all of it: a 19 MB log line)."""
    from rainbond_kit.resource import ALL_OPERATIONS

    resource = make_resource(
        NumbersSchema, collection="numbers", OPERATIONS=ALL_OPERATIONS | {"batch"}
    )
    app = serve(rainbond_settings, resource)
    try:
        client = app.test_client()
        body = (
            '{"operations": [{"op": "create", "data": {"nums": [7]}},'
            f' {{"op": "create", "data": {{"nums": {HUGE_ARRAY}}}}}]}}'
        )
        caplog.set_level("DEBUG")
        response = post_json(client, "/things/batch", body)
        assert response.status_code == 207, response.get_json()
        results = response.get_json()["results"]
        assert [r["status"] for r in results] == [201, 422]
        assert results[1]["error"]["message"] == TOO_LARGE
        stored = list(mongo_client[mongo_db_name]["numbers"].find({}, {"_id": 0, "nums": 1}))
        assert stored == [{"nums": [7]}]
        assert max(len(r.getMessage()) for r in caplog.records) < 2000
    finally:
        RainbondKit.shutdown(app)
    _no_error_logs(caplog)


def test_a_document_too_large_for_mongodb_is_422_through_compat(
    seed_app: Flask, seed_docs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The same body through compat's ``write_one_docu`` (a seed-style view): the envelope,
    nothing stored, no ERROR log."""
    seed = seed_app.test_client()
    response = post_json(seed, SEED, f'{{"n": 1, "a": {HUGE_ARRAY}}}')
    assert _refused(response, 422)["message"] == TOO_LARGE
    assert seed_docs() == []
    _no_error_logs(caplog)
