"""The books resource over HTTP against a real MongoDB wire server."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings, get_container

URL = "/api/v1/books"


@pytest.fixture
def make_book(client: FlaskClient) -> Any:
    def make(**fields: Any) -> dict[str, Any]:
        body = {"title": "t", "author": "a", **fields}
        response = client.post(URL, json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    return make


def _list(client: FlaskClient, query: str = "", status: int = 200) -> dict[str, Any]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == status, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_create_returns_201_location_and_public_form(client: FlaskClient) -> None:
    """POST stores the book and returns it with id, ms timestamps and a Location header."""
    before = int(time.time() * 1000)
    response = client.post(
        URL, json={"title": "三体", "author": "刘慈欣", "year": 2008, "tags": ["科幻"]}
    )
    assert response.status_code == 201
    book = response.get_json()
    assert book["title"] == "三体"
    assert book["author"] == "刘慈欣"
    assert book["tags"] == ["科幻"]
    assert len(book["id"]) == 24
    assert before <= book["creation_time"] == book["update_time"] <= int(time.time() * 1000)
    assert response.headers["Location"] == f"{URL}/{book['id']}"
    assert "三体".encode() in response.data  # not \\u-escaped
    assert client.get(response.headers["Location"]).get_json() == book


def test_stored_timestamps_are_utc_bson_dates(client: FlaskClient, app: Flask) -> None:
    """creation_time is stored as a UTC BSON date equal to the returned milliseconds."""
    book = client.post(URL, json={"title": "x", "author": "y"}).get_json()
    raw = get_container(app).mongo_db()["books"].find_one({})
    assert isinstance(raw["creation_time"], dt.datetime)
    assert raw["creation_time"].utcoffset() == dt.timedelta(0)
    assert int(raw["creation_time"].timestamp() * 1000) == book["creation_time"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"author": "a"}, "title"), ({"title": "", "author": "a"}, "title"),
     ({"title": "t", "author": "a", "year": "old"}, "year"),
     ({"title": "t", "author": "a", "redundant_dict": {"x": 1}}, "redundant_dict"),
     ({"title": "t", "author": "a", "$where": "1"}, "$where")],
)  # fmt: skip
def test_invalid_bodies_are_422_with_field_errors(
    client: FlaskClient, body: dict[str, Any], field: str
) -> None:
    """Missing, empty, mistyped or extra fields are refused with the field named."""
    response = client.post(URL, json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_non_json_body_is_a_clear_error(client: FlaskClient) -> None:
    """A body that is not JSON gets the envelope, not a 500."""
    response = client.post(URL, data="title=x", content_type="text/plain")
    assert response.status_code in (415, 422)
    assert response.get_json()["code"] == response.status_code


def test_read_bad_and_missing_ids(client: FlaskClient) -> None:
    """A malformed id is a 400; a well-formed unknown one a 404; both in the envelope."""
    bad = client.get(f"{URL}/not-an-id")
    assert bad.status_code == 400
    assert "invalid id" in bad.get_json()["message"]
    missing = client.get(f"{URL}/{'0' * 24}")
    assert missing.status_code == 404


def test_put_replaces_and_patch_updates(client: FlaskClient, make_book: Any) -> None:
    """PUT needs the whole document; PATCH changes only given fields; creation_time stays."""
    book = make_book(title="old", author="a", year=1990, tags=["x"])
    time.sleep(0.01)
    put = client.put(f"{URL}/{book['id']}", json={"title": "new", "author": "b"})
    assert put.status_code == 200
    replaced = put.get_json()
    assert replaced["title"] == "new"
    assert "year" not in replaced
    assert "tags" not in replaced
    assert replaced["creation_time"] == book["creation_time"]
    assert replaced["update_time"] > book["update_time"]
    assert client.put(f"{URL}/{book['id']}", json={"title": "only"}).status_code == 422
    patched = client.patch(f"{URL}/{book['id']}", json={"year": 2001}).get_json()
    assert (patched["title"], patched["author"], patched["year"]) == ("new", "b", 2001)
    assert client.patch(f"{URL}/{'0' * 24}", json={"year": 1}).status_code == 404


def test_soft_delete_hides_everywhere_and_restore(
    client: FlaskClient, make_book: Any, app: Flask
) -> None:
    """DELETE is soft: 204, then invisible to reads, lists, counts and updates; restore brings it back."""
    keep = make_book(title="keep")
    gone = make_book(title="gone")
    assert client.delete(f"{URL}/{gone['id']}").status_code == 204
    assert client.get(f"{URL}/{gone['id']}").status_code == 404
    assert client.patch(f"{URL}/{gone['id']}", json={"year": 1}).status_code == 404
    assert client.delete(f"{URL}/{gone['id']}").status_code == 404
    page = _list(client)
    assert [b["id"] for b in page["items"]] == [keep["id"]]
    assert (page["total"], page["dummy_remove"]) == (1, 1)
    assert _list(client, "title=gone")["dummy_remove"] == 1
    assert _list(client, "title=keep")["dummy_remove"] == 1  # the filter is not applied
    with app.app_context():
        repo = get_container(app).repository(collection="books")
        assert repo.restore({"id": gone["id"]}) == 1
    assert client.get(f"{URL}/{gone['id']}").status_code == 200


def test_filters_are_typed_and_literal(client: FlaskClient, make_book: Any) -> None:
    """Text filters are escaped 'contains'; ints, lists and operators compare by type."""
    a = make_book(title="a(b)", author="李杰", year=1999, tags=["x", "y"])
    b = make_book(title="a.c", author="Li Jie", year=2005, tags=["y"])
    c = make_book(title="zzz", author="李杰", year=2020, tags=["z"])

    def ids(query: str) -> list[str]:
        return sorted(i["id"] for i in _list(client, query)["items"])

    assert ids("author=李杰") == sorted([a["id"], c["id"]])
    assert ids("title=a.") == [b["id"]]  # '.' is not a wildcard
    assert ids("title=a(") == [a["id"]]  # '(' is not a regex group
    assert ids("year=1999") == [a["id"]]
    assert ids("year[gte]=2000&year[lt]=2021") == sorted([b["id"], c["id"]])
    assert ids("tags=y") == sorted([a["id"], b["id"]])
    assert ids("tags[in]=x,z") == sorted([a["id"], c["id"]])
    assert ids("title[eq]=zzz") == [c["id"]]
    assert ids("title[ne]=zzz") == sorted([a["id"], b["id"]])
    assert ids("author[icontains]=li jie") == [b["id"]]
    assert ids("author[startswith]=Li") == [b["id"]]
    assert ids(f"id={a['id']}") == [a["id"]]
    assert ids("title=") == sorted([a["id"], b["id"], c["id"]])  # blank text filter ignored


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("title[$ne]=x", "title"),
        ("password=x", "password"),
        ("remove_time=2020-1-1", "remove_time"),
        ("$where=1", "$where"),
        ("year=abc", "year"),
        ("year[regex]=1", "year"),
        ("$orderby=year,year", "$orderby"),
        ("$limit=101", "$limit"),
        ("$limit=0", "$limit"),
        ("$offset=-1", "$offset"),
        ("$orderby=password desc", "$orderby"),
        ("$orderby=title sideways", "$orderby"),
        ("$start_date=2020-1-1", "$end_date"),
        ("$end_date=2020-1-1", "$start_date"),
        ("$start_date=2020-13-45&$end_date=2021-1-1", "$start_date"),
        ("$start_date=2021-1-1&$end_date=2020-1-1", "$start_date"),
        ("$start_date=2020-1-1&$end_date=2021-1-1&$date_type=title", "$date_type"),
        ("$count=maybe", "$count"),
        ("$fields=password", "$fields"),
        ("$after=garbage!!", "$after"),
        ("$after=x&$offset=3", "$after"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(
    client: FlaskClient, query: str, named: str
) -> None:
    """Every malformed or forbidden list parameter is a 400 whose errors name it."""
    body = _list(client, query, status=400)
    assert body["code"] == 400
    assert any(named in key for key in body["errors"]), body


def test_operator_injection_is_literal(client: FlaskClient, make_book: Any) -> None:
    """A JSON-looking query value is text, never an operator."""
    make_book(title="real")
    assert _list(client, 'title={"$ne":""}')["total"] == 0
    assert _list(client, "title=.*")["total"] == 0


def test_search_body_refuses_objects(client: FlaskClient, make_book: Any) -> None:
    """POST /search takes the query language as JSON; dict values and non-objects are 400."""
    make_book(title="x", year=2000)
    ok = client.post(f"{URL}/search", json={"year": 2000, "$limit": 5})
    assert ok.status_code == 200
    assert ok.get_json()["total"] == 1
    assert client.post(f"{URL}/search", json={"year": [2000, 2001]}).get_json()["total"] == 1
    for body in ({"title": {"$ne": ""}}, {"title": {"$regex": "^x"}}, {"year": [{"$gt": 1}]}, ["x"],
                 {"$where": "sleep(1)"}):  # fmt: skip
        response = client.post(f"{URL}/search", json=body)
        assert response.status_code == 400, body
    assert (
        client.post(f"{URL}/search", data="{", content_type="application/json").status_code == 400
    )


def test_paging_sorting_headers(client: FlaskClient, make_book: Any) -> None:
    """$limit/$offset/$orderby page correctly; X-Total-Count and Link headers match."""
    for year in range(12):
        make_book(title=f"b{year:02d}", year=year % 3)
    page1 = client.get(f"{URL}?$orderby=year desc, title asc&$limit=5")
    body = page1.get_json()
    assert body["total"] == 12
    assert page1.headers["X-Total-Count"] == "12"
    assert [b["title"] for b in body["items"]] == ["b02", "b05", "b08", "b11", "b01"]
    assert 'rel="next"' in page1.headers["Link"]
    assert len(_list(client)["items"]) == 10  # default page size
    page3 = client.get(f"{URL}?$orderby=title&$limit=5&$offset=10")
    assert [b["title"] for b in page3.get_json()["items"]] == ["b10", "b11"]
    assert 'rel="prev"' in page3.headers["Link"]
    assert 'rel="next"' not in page3.headers["Link"]
    assert page3.get_json()["next"] is None


def test_date_range_covers_the_whole_end_day(client: FlaskClient, make_book: Any) -> None:
    """$start_date/$end_date select by update_time (default) or creation_time, end day inclusive."""
    make_book(title="now")
    today = dt.datetime.now(dt.timezone.utc).date()
    day = f"{today.year}-{today.month}-{today.day}"
    assert _list(client, f"$start_date={day}&$end_date={day}")["total"] == 1
    assert (
        _list(client, f"$start_date={day}&$end_date={day}&$date_type=creation_time")["total"] == 1
    )
    assert _list(client, "$start_date=2000-1-1&$end_date=2000-1-2")["total"] == 0
    ms = int(time.time() * 1000)
    assert _list(client, f"$start_date={ms - 60_000}&$end_date={ms + 60_000}")["total"] == 1


def test_count_modes_and_projection(client: FlaskClient, make_book: Any) -> None:
    """$count=none skips counting; $fields projects allowed fields (id always kept)."""
    make_book(title="p", year=5, tags=["q"])
    none = _list(client, "$count=none")
    assert (none["total"], none["dummy_remove"]) == (None, None)
    assert _list(client, "$count=estimated")["total"] == 1
    item = _list(client, "$fields=title,year")["items"][0]
    assert set(item) == {"id", "title", "year"}


def test_keyset_paging_with_concurrent_inserts(client: FlaskClient, make_book: Any) -> None:
    """Following `next` cursors visits every original book once, even while new ones arrive."""
    originals = {make_book(title=f"k{i:02d}", year=i % 4)["id"] for i in range(23)}
    seen: list[str] = []
    query = "$orderby=year asc,title desc&$limit=5"
    body = _list(client, query)
    pages = 0
    while True:
        pages += 1
        seen += [b["id"] for b in body["items"]]
        make_book(title="late", year=0)  # sorts before every later page: never shown on them
        if body["next"] is None:
            break
        body = _list(client, f"{query}&$after={body['next']}")
    assert len(seen) == len(set(seen))
    assert originals <= set(seen)
    assert pages == 5


def test_cursor_for_another_order_is_refused(client: FlaskClient, make_book: Any) -> None:
    """A cursor only continues the $orderby it was made for."""
    for i in range(3):
        make_book(title=f"c{i}")
    cursor = _list(client, "$limit=1&$orderby=title")["next"]
    assert cursor
    body = _list(client, f"$limit=1&$orderby=year&$after={cursor}", status=400)
    assert "another $orderby" in body["message"]


def test_mongo_down_is_503(mongo_uri: str) -> None:
    """With MongoDB unreachable, resource calls answer a 503 envelope quickly, no traceback."""
    settings = Settings.from_env(
        {
            "MONGODB_URI": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    app = create_app(settings, {"TESTING": True})
    started = time.monotonic()
    response = app.test_client().get(URL)
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.get_json()["message"] == "mongodb is unavailable"
    RainbondKit.shutdown(app)
