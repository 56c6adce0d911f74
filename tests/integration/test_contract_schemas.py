"""Issue 12, schema = response = storage: for generated schemas, what ``/openapi.json`` says is
what the server accepts, stores and returns; items round-trip GET -> PUT; walks see each
document once; invalid bodies are 4xx envelopes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import marshmallow as ma
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from rainbond_kit import RainbondKit, Settings
from tests.integration.contract_support import (
    META,
    FieldSpec,
    OpenAPI,
    build_schema,
    documents,
    field_specs,
    invalid_value,
    post_json,
    serve_generated,
)

BASE = "/things"
ITEM = "/things/{item_id}"
LIST_PATHS = ("/things", "/things/")

CONTRACT = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: bounded time on a failing server
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _comparable(
    schema: type[ma.Schema], specs: tuple[FieldSpec, ...], body: Any, *, request: bool = False
) -> Any:
    """``body`` (request or response) as the schema loads it, without load_only fields.

    A request body is loaded as the server loads it (in full, so ``load_default`` values are
    filled in, nested ones too); a response only partially (it never carries load_only
    members)."""
    loaded = schema().load(
        {k: v for k, v in body.items() if k not in META}, unknown=ma.EXCLUDE, partial=not request
    )
    hidden = {s.attr for s in specs if s.load_only}
    return {k: v for k, v in loaded.items() if k not in hidden}


def _list_path(api: OpenAPI) -> str:
    return next(p for p in LIST_PATHS if p in api.document["paths"])


def _walk(client: FlaskClient, mode: str, orderby: str | None = None) -> list[str]:
    seen: list[str] = []
    base: dict[str, Any] = {"$limit": 2, **({"$orderby": orderby} if orderby else {})}
    query = dict(base)
    for _ in range(20):
        response = client.get(BASE, query_string=query)
        assert response.status_code == 200, (orderby, response.get_json())
        body = response.get_json()
        seen += [item["id"] for item in body["items"]]
        if mode == "after":
            if body["next"] is None:
                return seen
            query = {**base, "$after": body["next"]}
        else:
            if not body["items"]:
                return seen
            query = {**base, "$offset": len(seen)}
    raise AssertionError(f"walk with ${mode} did not end")


#: kinds a client can filter by equality and sort by, under the documented (data_key) name
FILTERABLE = ("String", "Integer", "Boolean", "DateTime", "Email", "UUID", "Enum")


def _query_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _filter_and_sort(
    client: FlaskClient, specs: tuple[FieldSpec, ...], created: dict[str, dict[str, Any]]
) -> None:
    """Each filterable top-level field: ``key[eq]=<returned value>`` finds the item, and a
    sorted ``$after`` walk over it sees every document once."""
    for spec in specs:
        if spec.kind not in FILTERABLE or spec.load_only:
            continue
        for item_id, body in created.items():
            value = body.get(spec.key)
            if value is None:
                continue
            query = {f"{spec.key}[eq]": _query_text(value), "$limit": 100}
            found = client.get(BASE, query_string=query)
            assert found.status_code == 200, (query, found.get_json())
            assert item_id in {i["id"] for i in found.get_json()["items"]}, query
        walked = _walk(client, "after", f"{spec.key} asc")
        assert sorted(walked) == sorted(created), spec.key


@contextmanager
def _served(settings_: Settings, specs: tuple[FieldSpec, ...]) -> Iterator[FlaskClient | None]:
    """The app of a generated resource (``None`` when register() refused it acceptably)."""
    note(f"specs={specs!r}")
    app = serve_generated(settings_, specs, SOFT_DELETE=True)
    if app is None:
        yield None
        return
    try:
        yield app.test_client()
    finally:
        RainbondKit.shutdown(app)


def _create(
    client: FlaskClient, api: OpenAPI, specs: tuple[FieldSpec, ...], docs: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """POST every document; check 201, the documented body, data_key names and values."""
    schema = build_schema(specs)
    created: dict[str, dict[str, Any]] = {}
    for doc in docs:
        response = post_json(client, BASE, doc)
        assert response.status_code == 201, (doc, response.get_json())
        body = response.get_json()
        api.validate(_list_path(api), "post", 201, body)
        expected_keys = set(schema().dump(schema().load(doc)))
        assert set(body) - META == expected_keys, (doc, body)
        assert _comparable(schema, specs, body) == _comparable(schema, specs, doc, request=True), (
            doc,
            body,
        )
        created[body["id"]] = body
    return created


@given(data=st.data(), specs=field_specs())
@CONTRACT
def test_items_are_stored_and_returned_as_documented_and_put_back_unchanged(
    rainbond_settings: Settings, data: st.DataObject, specs: tuple[FieldSpec, ...]
) -> None:
    with _served(rainbond_settings, specs) as client:
        if client is None:
            return
        api = OpenAPI.of(client)
        docs = data.draw(st.lists(documents(specs), min_size=1, max_size=3), label="docs")
        for item_id, body in _create(client, api, specs, docs).items():
            got = client.get(f"{BASE}/{item_id}")
            assert got.status_code == 200
            api.validate(ITEM, "get", 200, got.get_json())
            assert got.get_json() == body
            put = client.put(f"{BASE}/{item_id}", json=body)
            assert put.status_code == 200, (body, put.get_json())
            api.validate(ITEM, "put", 200, put.get_json())
            assert put.get_json() == body
            assert client.get(f"{BASE}/{item_id}").get_json() == body


@given(data=st.data(), specs=field_specs())
@CONTRACT
def test_list_walks_see_every_document_once_in_the_documented_shape(
    rainbond_settings: Settings, data: st.DataObject, specs: tuple[FieldSpec, ...]
) -> None:
    with _served(rainbond_settings, specs) as client:
        if client is None:
            return
        api = OpenAPI.of(client)
        docs = data.draw(st.lists(documents(specs), min_size=1, max_size=5), label="docs")
        created = _create(client, api, specs, docs)
        page = client.get(BASE, query_string={"$limit": 100})
        assert page.status_code == 200
        api.validate(_list_path(api), "get", 200, page.get_json())
        assert {item["id"]: item for item in page.get_json()["items"]} == created
        for mode in ("after", "offset"):
            walked = _walk(client, mode)
            assert sorted(walked) == sorted(created), mode


@given(data=st.data(), specs=field_specs())
@CONTRACT
def test_fields_filter_and_sort_under_their_documented_names(
    rainbond_settings: Settings, data: st.DataObject, specs: tuple[FieldSpec, ...]
) -> None:
    with _served(rainbond_settings, specs) as client:
        if client is None:
            return
        api = OpenAPI.of(client)
        docs = data.draw(st.lists(documents(specs), min_size=1, max_size=4), label="docs")
        _filter_and_sort(client, specs, _create(client, api, specs, docs))


@given(specs=field_specs())
@CONTRACT
def test_invalid_bodies_are_4xx_envelopes(
    rainbond_settings: Settings, specs: tuple[FieldSpec, ...]
) -> None:
    with _served(rainbond_settings, specs) as client:
        if client is not None:
            _invalid_bodies_are_4xx(client, specs)


def _invalid_bodies_are_4xx(client: FlaskClient, specs: tuple[FieldSpec, ...]) -> None:
    """Wrong shapes, unknown fields and wrong-typed values: a documented 4xx envelope on POST,
    PUT and PATCH (bodies are validated before the item is looked up)."""
    api = OpenAPI.of(client)
    item = f"{BASE}/{'0' * 24}"
    targets = (("post", BASE, _list_path(api)), ("put", item, ITEM), ("patch", item, ITEM))
    for shape in ([], "null", "3"):
        response = post_json(client, BASE, shape)
        assert response.status_code in (400, 422), (shape, response.status_code)
        assert response.get_json()["code"] == response.status_code
    bodies: list[Any] = [{"zz_unknown_field": 1}]
    for spec in specs:
        bad = invalid_value(spec)
        if bad is not None and not spec.dump_only:
            bodies.append({spec.key: bad})
    for body in bodies:
        for method, url, path in targets:
            response = client.open(url, method=method.upper(), json=body)
            assert response.status_code == 422, (method, body, response.get_data()[:300])
            api.validate(path, method, 422, response.get_json())
            assert response.get_json()["code"] == 422


@pytest.mark.parametrize("kind", ["Date", "Decimal", "DateTime"])
def test_each_temporal_and_decimal_kind_works_or_is_refused(
    rainbond_settings: Settings, kind: str
) -> None:
    """The three kinds the issue found broken, one at a time (a failing example is readable)."""
    specs = (FieldSpec("String", "title", required=True), FieldSpec(kind, "when", "whenKey"))
    values = {"Date": "2020-02-29", "Decimal": 12.5, "DateTime": "2020-02-29T12:30:45.123000+00:00"}
    schema = build_schema(specs)
    app = serve_generated(rainbond_settings, specs)
    if app is None:
        assert kind != "DateTime", "DateTime must work end to end"
        return
    try:
        client = app.test_client()
        response = post_json(client, BASE, {"title": "t", "whenKey": values[kind]})
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert set(body) - META == {"title", "whenKey"}
        expected = schema().dump(schema().load({"title": "t", "whenKey": values[kind]}))
        assert {k: body[k] for k in expected} == (
            {**expected, "whenKey": float(expected["whenKey"])} if kind == "Decimal" else expected
        )
        filtered = client.get(BASE, query_string={"whenKey": str(values[kind])})
        assert filtered.status_code == 200, filtered.get_json()
        assert [i["id"] for i in filtered.get_json()["items"]] == [body["id"]]
    finally:
        RainbondKit.shutdown(app)
