"""Issue 12, hostile input: each case is a 4xx JSON envelope, never a 5xx."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from flask.views import MethodView
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings
from rainbond_kit.compat.db_connect import DBConnect
from rainbond_kit.compat.parameter import Parameter
from tests.integration.contract_support import JSON, make_resource, post_json, serve


class RecordSchema(ma.Schema):
    title = ma.fields.String(required=True)
    year = ma.fields.Integer()
    nums = ma.fields.List(ma.fields.Integer())
    when = ma.fields.DateTime()


URL = "/things"
INT64_EDGES = [2**63, -(2**63) - 1, 2**64, 10**30]


@pytest.fixture
def client(rainbond_settings: Settings) -> Iterator[FlaskClient]:
    app = serve(rainbond_settings, make_resource(RecordSchema, collection="records", ETAG=True))
    yield app.test_client()
    RainbondKit.shutdown(app)


def _assert_4xx(response: Any, allowed: tuple[int, ...], what: object) -> None:
    assert response.status_code in allowed, (what, response.status_code, response.get_data()[:300])
    envelope = response.get_json()
    assert isinstance(envelope, dict), what
    assert envelope["code"] == response.status_code, what


def _item(client: FlaskClient) -> str:
    created = client.post(URL, json={"title": "seed", "year": 1})
    assert created.status_code == 201
    return f"{URL}/{created.get_json()['id']}"


@pytest.mark.parametrize("number", INT64_EDGES)
def test_integers_beyond_int64_in_bodies_are_422(client: FlaskClient, number: int) -> None:
    item = _item(client)
    for method, url, body in (
        ("POST", URL, {"title": "t", "year": number}),
        ("POST", URL, {"title": "t", "nums": [1, number]}),
        ("PUT", item, {"title": "t", "year": number}),
        ("PATCH", item, {"year": number}),
    ):
        response = client.open(url, method=method, data=json.dumps(body), content_type=JSON)
        _assert_4xx(response, (422,), (method, body))
    assert client.get(item).get_json()["year"] == 1


@pytest.mark.parametrize("number", INT64_EDGES)
def test_integers_beyond_int64_in_filters_are_never_5xx(client: FlaskClient, number: int) -> None:
    _item(client)
    listed = client.get(URL, query_string={"year": str(number)})
    assert listed.status_code in (200, 400), listed.get_data()[:300]
    if listed.status_code == 200:
        assert listed.get_json()["items"] == []
    search = client.post(f"{URL}/search", json={"year[gte]": number})
    assert search.status_code in (200, 400), search.get_data()[:300]


def test_compat_int_field_beyond_int64_is_400(rainbond_settings: Settings) -> None:
    """The compat ``Parameter.verification(verify={... int})`` + ``write_one_docu`` path."""

    class Legacy(MethodView):
        def post(self) -> Any:
            parameter = Parameter(request)
            param = parameter.verification(
                checking=parameter.param_json, verify={"title": str, "n": int}
            )
            db = DBConnect(db=rainbond_settings.mongo.database, collection="legacy")
            return {"new_id": db.write_one_docu(docu=param)}

    app = Flask("legacy")
    app.config["TESTING"] = True
    RainbondKit(app, settings=rainbond_settings)
    app.add_url_rule("/legacy", view_func=Legacy.as_view("legacy"))
    try:
        client = app.test_client()
        assert client.post("/legacy", json={"title": "t", "n": 5}).status_code == 200
        for number in INT64_EDGES:
            response = client.post("/legacy", json={"title": "t", "n": number})
            _assert_4xx(response, (400,), number)
    finally:
        RainbondKit.shutdown(app)


DEEP = 10_000


@pytest.mark.parametrize(
    "body",
    [
        '{"title": "t", "nums": ' + "[" * DEEP + "]" * DEEP + "}",
        '{"title": "t", "x": ' + '{"a":' * DEEP + "1" + "}" * DEEP + "}",
        "[" * DEEP + "]" * DEEP,
    ],
    ids=["deep-list", "deep-object", "deep-root"],
)
def test_json_nested_ten_thousand_levels_is_4xx(client: FlaskClient, body: str) -> None:
    item = _item(client)
    for method, url in (("POST", URL), ("PUT", item), ("PATCH", item), ("POST", f"{URL}/search")):
        response = client.open(url, method=method, data=body, content_type=JSON)
        _assert_4xx(response, (400, 413, 422), (method, url))


@pytest.mark.parametrize(
    "body",
    [
        '{"\\ud800": 1, "title": "t"}',
        '{"title": "t", "\\udfff\\ud800": 1}',
        '{"title": "\\ud800"}',
        '{"title": "t", "nums": [1], "\\udc00x": "v"}',
    ],
)
def test_lone_surrogates_are_4xx(client: FlaskClient, body: str) -> None:
    _assert_4xx(post_json(client, URL, body), (400, 422), body)
    search_body = body.replace('"title": "t"', '"title": "x"')
    _assert_4xx(post_json(client, f"{URL}/search", search_body), (400,), search_body)
    assert client.get(URL).get_json()["total"] == 0


def _b64(payload: Any) -> str:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED: dict[str, Callable[[Any, Any], str]] = {
    "not-base64": lambda k, o: "!!!",
    "long": lambda k, o: "a" * 10_000,
    "binary": lambda k, o: _b64(b"\xff\xfe\x00"),
    "int-over-int64": lambda k, o: _b64({"k": k, "v": [2**70, o]}),
    "int-under-int64": lambda k, o: _b64({"k": k, "v": [-(2**70), o]}),
    "date-overflow": lambda k, o: _b64({"k": k, "v": [{"d": 10**30}, o]}),
    "date-underflow": lambda k, o: _b64({"k": k, "v": [{"d": -(2**62)}, o]}),
    "surrogate-tagged": lambda k, o: _b64({"k": k, "v": [{"s": "\ud800"}, o]}),
    "surrogate": lambda k, o: _b64({"k": k, "v": ["\udc00", o]}),
    "bad-object-id": lambda k, o: _b64({"k": k, "v": [1, {"o": "zz"}]}),
    "operator": lambda k, o: _b64({"k": k, "v": [1, {"$gt": ""}]}),
    "list-value": lambda k, o: _b64({"k": k, "v": [[1, 2], o]}),
    "short": lambda k, o: _b64({"k": k, "v": [1]}),
    "no-values": lambda k, o: _b64({"k": k}),
    "not-object": lambda k, o: _b64([k]),
    "deep": lambda k, o: _b64(b'{"k": ' + b"[" * DEEP + b"]" * DEEP + b', "v": []}'),
    "direction": lambda k, o: _b64({"k": [["year", 2], ["_id", 1]], "v": [1, o]}),
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_after_cursors_are_400(client: FlaskClient, name: str) -> None:
    for n in range(3):
        assert client.post(URL, json={"title": f"t{n}", "year": n}).status_code == 201
    page = client.get(URL, query_string={"$orderby": "year asc", "$limit": 1}).get_json()
    real = json.loads(base64.urlsafe_b64decode(page["next"] + "=" * (-len(page["next"]) % 4)))
    cursor = FORGED[name](real["k"], real["v"][-1])
    response = client.get(URL, query_string={"$orderby": "year asc", "$after": cursor})
    _assert_4xx(response, (400,), name)
    search = client.post(f"{URL}/search", json={"$orderby": "year asc", "$after": cursor})
    _assert_4xx(search, (400,), name)


OVERFLOWING = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59.999-00:01",
]


@pytest.mark.parametrize("value", OVERFLOWING)
def test_iso_dates_overflowing_on_utc_conversion_are_4xx(client: FlaskClient, value: str) -> None:
    item = _item(client)
    _assert_4xx(client.post(URL, json={"title": "t", "when": value}), (422,), value)
    _assert_4xx(client.patch(item, json={"when": value}), (422,), value)
    for params in (
        {"when[gte]": value},
        {"when": value},
        {"creation_time[lt]": value},
        {"$start_date": value, "$end_date": value},
        {"$start_date": value, "$end_date": "2020-1-1", "$date_type": "when"},
    ):
        _assert_4xx(client.get(URL, query_string=params), (400,), params)
        _assert_4xx(client.post(f"{URL}/search", json=params), (400,), params)


@pytest.mark.parametrize("tag", ["9" * 40, "9" * 400, '"' + "1" * 300 + '"', "0" * 30 + "1"])
def test_long_all_digit_if_match_is_412(client: FlaskClient, tag: str) -> None:
    item = _item(client)
    before = client.get(item).get_json()
    for method, body in (("PATCH", {"year": 2}), ("PUT", {"title": "x"}), ("DELETE", None)):
        response = client.open(item, method=method, json=body, headers={"If-Match": tag})
        _assert_4xx(response, (412,), (method, tag[:20]))
    assert client.get(item).get_json() == before


@pytest.fixture
def sample(rainbond_settings: Settings) -> Iterator[FlaskClient]:
    app = create_app(rainbond_settings, {"TESTING": True})
    yield app.test_client()
    RainbondKit.shutdown(app)


def test_head_on_compat_views_is_never_5xx(sample: FlaskClient) -> None:
    get = sample.get("/api/v1/demo")
    assert get.status_code == 200
    head = sample.head("/api/v1/demo")
    assert head.status_code == 200, head.status_code
    assert head.get_data() == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_head_on_a_seed_style_compat_view_is_never_5xx(rainbond_settings: Settings) -> None:
    """The seed's pattern: one function for several methods, branching on ``parameter.method``;
    Flask adds HEAD to every GET route, and HEAD must answer like GET without a body."""
    app = Flask("seed_style")
    app.config["TESTING"] = True
    RainbondKit(app, settings=rainbond_settings)

    @app.route("/api/v1/seed", methods=["GET", "POST"])
    def seed() -> Any:
        parameter = Parameter(request)
        db = DBConnect(db=rainbond_settings.mongo.database, collection="seed")
        if parameter.method == "GET":
            return db.find_paging(parameter)
        if parameter.method == "POST":
            return {"new_id": db.write_one_docu(docu=parameter.param_json)}
        return None

    try:
        client = app.test_client()
        assert client.post("/api/v1/seed", json={"title": "t"}).status_code == 200
        get = client.get("/api/v1/seed")
        head = client.head("/api/v1/seed")
        assert (head.status_code, head.get_data()) == (get.status_code, b"")
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
    finally:
        RainbondKit.shutdown(app)
