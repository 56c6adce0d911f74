"""Issue 12, lists and soft delete: keyset walks over mixed BSON types, repeated sort keys,
"any of" filters, Link headers that keep every value, chunked /search bodies, and no count
that reveals soft-deleted documents."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import marshmallow as ma
import pymongo
import pytest
from bson import Decimal128
from flask.testing import FlaskClient

from rainbond_kit import RainbondKit, Settings
from tests.integration.contract_support import JSON, make_resource, serve


class EntrySchema(ma.Schema):
    title = ma.fields.String(required=True)
    author = ma.fields.String()
    year = ma.fields.Integer()
    score = ma.fields.Float()


URL = "/things"
LIMIT = 1024


@pytest.fixture
def client(rainbond_settings: Settings) -> Iterator[FlaskClient]:
    resource = make_resource(EntrySchema, collection="entries", SOFT_DELETE=True)
    app = serve(rainbond_settings, resource, MAX_CONTENT_LENGTH=LIMIT)
    yield app.test_client()
    RainbondKit.shutdown(app)


@pytest.fixture
def stored(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str
) -> pymongo.collection.Collection[dict[str, Any]]:
    return mongo_client[mongo_db_name]["entries"]


def _insert(
    stored: pymongo.collection.Collection[dict[str, Any]], field: str, values: list[Any]
) -> set[str]:
    now = dt.datetime.now(dt.timezone.utc)
    docs = []
    for n, value in enumerate(values):
        doc: dict[str, Any] = {
            "title": f"t{n}",
            "author": "a",
            "creation_time": now,
            "update_time": now,
        }
        if value is not _MISSING:
            doc[field] = value
        docs.append(doc)
    return {str(i) for i in stored.insert_many(docs).inserted_ids}


_MISSING = object()
MIXED: list[Any] = [
    3, 1, 2.5, -7, "b", "a", "", None, _MISSING, True, False,
    dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(1999, 1, 1, tzinfo=dt.timezone.utc),
    Decimal128("2.25"), Decimal128("-0.5"), 3, None, _MISSING, "b", 1.0,
]  # fmt: skip
NUMERIC: list[Any] = [
    Decimal128("1.5"), 1, 1.5, Decimal128("2"), 2, 2.0, Decimal128("-3.25"), 0, 0.0,
    Decimal128("10"), 9.99, 11,
]  # fmt: skip


def _walk_after(client: FlaskClient, orderby: str, limit: int = 2) -> list[str] | None:
    """Ids of a whole ``$after`` walk; ``None`` when the first page refuses the sort (400)."""
    query: dict[str, Any] = {"$orderby": orderby, "$limit": limit}
    seen: list[str] = []
    for page_no in range(200):
        response = client.get(URL, query_string=query)
        if page_no == 0 and response.status_code == 400:
            return None
        assert response.status_code == 200, (page_no, response.get_json())
        body = response.get_json()
        seen += [i["id"] for i in body["items"]]
        if body["next"] is None:
            return seen
        query = {"$orderby": orderby, "$limit": limit, "$after": body["next"]}
    raise AssertionError("walk did not end")


@pytest.mark.parametrize(("field", "values"), [("year", MIXED), ("score", NUMERIC)])
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_after_walk_over_mixed_bson_types_is_whole_or_refused(
    client: FlaskClient,
    stored: pymongo.collection.Collection[dict[str, Any]],
    field: str,
    values: list[Any],
    direction: str,
    limit: int,
) -> None:
    ids = _insert(stored, field, values)
    walked = _walk_after(client, f"{field} {direction}", limit)
    if walked is None:
        assert field != "score", "numeric types (int, double, Decimal128) must be walkable"
        return
    assert sorted(walked) == sorted(ids), f"{len(walked)} of {len(ids)} seen"
    assert len(walked) == len(set(walked))


@pytest.mark.parametrize("orderby", ["year asc,year desc", "year,year", "year desc, year"])
def test_repeated_sort_key_is_400(client: FlaskClient, orderby: str) -> None:
    response = client.get(URL, query_string={"$orderby": orderby})
    assert response.status_code == 400, response.get_json()
    assert "year" in response.get_json()["message"]
    search = client.post(f"{URL}/search", json={"$orderby": orderby})
    assert search.status_code == 400


def _seed_authors(client: FlaskClient) -> dict[str, str]:
    ids = {}
    for n, author in enumerate(["Alice Smith", "Bob Jones", "Carol King"]):
        response = client.post(URL, json={"title": f"b{n}", "author": author, "year": 2000 + n})
        assert response.status_code == 201
        ids[author] = response.get_json()["id"]
    return ids


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("author", "Alice")], ["Alice Smith"]),
        ([("author", "Alice"), ("author", "Jones")], ["Alice Smith", "Bob Jones"]),
        ([("author[contains]", "lice"), ("author[contains]", "Jon")], ["Alice Smith", "Bob Jones"]),
        (
            [("author[startswith]", "Al"), ("author[startswith]", "Ca")],
            ["Alice Smith", "Carol King"],
        ),
        ([("year", "2000"), ("year", "2002")], ["Alice Smith", "Carol King"]),
        ([("year[eq]", "2001"), ("year[eq]", "2002")], ["Bob Jones", "Carol King"]),
    ],
)
def test_repeated_values_mean_any_of_on_get_and_search(
    client: FlaskClient, params: list[tuple[str, str]], expected: list[str]
) -> None:
    ids = _seed_authors(client)
    want = sorted(ids[a] for a in expected)
    listed = client.get(URL, query_string=params)
    assert listed.status_code == 200, listed.get_json()
    assert sorted(i["id"] for i in listed.get_json()["items"]) == want
    body: dict[str, Any] = {}
    for key, value in params:
        body.setdefault(key, []).append(value)
    body = {k: v[0] if len(v) == 1 else v for k, v in body.items()}
    search = client.post(f"{URL}/search", json=body)
    assert search.status_code == 200, (body, search.get_json())
    assert sorted(i["id"] for i in search.get_json()["items"]) == want


def _next_link(response: Any) -> str:
    header = response.headers.get("Link", "")
    links = [part.split(";")[0].strip()[1:-1] for part in header.split(",") if 'rel="next"' in part]
    assert len(links) == 1, (header, response.get_json())
    return links[0]


def test_link_next_keeps_every_repeated_filter_value(client: FlaskClient) -> None:
    ids = _seed_authors(client)
    first = client.get(
        URL, query_string=[("author", "Alice"), ("author", "Jones"), ("$limit", "1")]
    )
    assert first.status_code == 200
    link = _next_link(first)
    assert parse_qs(urlsplit(link).query)["author"] == ["Alice", "Jones"]
    second = client.get(link)
    seen = {first.get_json()["items"][0]["id"], second.get_json()["items"][0]["id"]}
    assert seen == {ids["Alice Smith"], ids["Bob Jones"]}


def test_search_link_next_works(client: FlaskClient) -> None:
    ids = _seed_authors(client)
    first = client.post(f"{URL}/search", json={"author": ["Alice", "Jones"], "$limit": 1})
    assert first.status_code == 200, first.get_json()
    following = client.get(_next_link(first))
    assert following.status_code == 200, following.get_json()
    seen = {first.get_json()["items"][0]["id"], following.get_json()["items"][0]["id"]}
    assert seen == {ids["Alice Smith"], ids["Bob Jones"]}


def _chunked(client: FlaskClient, body: bytes) -> Any:
    return client.post(
        f"{URL}/search",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": JSON},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_chunked_search_body_is_honoured_and_capped(client: FlaskClient) -> None:
    ids = _seed_authors(client)
    answer = _chunked(client, json.dumps({"author": "Bob", "$fields": "title"}).encode())
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["items"] == [{"id": ids["Bob Jones"], "title": "b1"}]
    too_big = _chunked(client, json.dumps({"author": "x" * (LIMIT + 10)}).encode())
    assert too_big.status_code == 413
    assert too_big.get_json()["code"] == 413


def _numbers(client: FlaskClient, params: dict[str, str]) -> list[Any]:
    found = []
    for mode in ("exact", "estimated", "none"):
        listed = client.get(URL, query_string={**params, "$count": mode})
        assert listed.status_code == 200
        body = listed.get_json()
        found.append(
            (
                mode,
                body["total"],
                body["dummy_remove"],
                listed.headers.get("X-Total-Count"),
                len(body["items"]),
            )
        )
        search = client.post(f"{URL}/search", json={**params, "$count": mode}).get_json()
        found.append((mode, search["total"], search["dummy_remove"], len(search["items"])))
    return found


@pytest.mark.parametrize(
    "probe", ["title", "title[startswith]", "title[contains]", "title[icontains]"]
)
def test_no_count_reveals_soft_deleted_documents(client: FlaskClient, probe: str) -> None:
    secret = client.post(URL, json={"title": "secret-merger-plan", "author": "ceo"}).get_json()
    assert client.post(URL, json={"title": "public notice", "author": "ceo"}).status_code == 201
    assert client.delete(f"{URL}/{secret['id']}").status_code == 204
    assert client.get(f"{URL}/{secret['id']}").status_code == 404
    hit, miss = _numbers(client, {probe: "secret"}), _numbers(client, {probe: "zzznothing"})
    assert hit == miss
    everything = client.get(URL).get_json()
    assert (everything["total"], len(everything["items"])) == (1, 1)
