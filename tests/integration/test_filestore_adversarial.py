"""File uploads under adversarial input and concurrency: never a 500, never a half file."""

from __future__ import annotations

import threading
from typing import Any

import pymongo
import requests
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration._filestore_support import URL, multipart, text_of
from tests.integration._served import served

Client = pymongo.MongoClient[dict[str, Any]]


BODY, CONTENT_TYPE = multipart(text_of(3000), fields=(("book_id", "5f1d7c0a9b1e8a0001a1b2c3"),))


def _mutations() -> st.SearchStrategy[bytes]:
    body = BODY
    return st.one_of(
        st.integers(0, len(body)).map(lambda cut: body[:cut]),
        st.tuples(st.integers(0, len(body) - 1), st.binary(min_size=1, max_size=40)).map(
            lambda edit: body[: edit[0]] + edit[1] + body[edit[0] + len(edit[1]) :]
        ),
        st.binary(max_size=300),
    )


def test_the_unmangled_body_is_accepted(client: FlaskClient) -> None:
    """Control: the body the mutations start from uploads fine."""
    assert client.post(URL, data=BODY, content_type=CONTENT_TYPE).status_code == 201


@given(data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_mangled_bodies_are_4xx_or_a_whole_file(
    client: FlaskClient, mongo_client: Client, mongo_db_name: str, data: st.DataObject
) -> None:
    """Cut, overwritten or random bodies: a 4xx envelope with nothing stored, or a 201 whose
    document and chunks are complete; never a 500."""
    mangled = data.draw(_mutations())
    db = mongo_client[mongo_db_name]
    files_before = db["attachments.files"].count_documents({})
    response = client.post(URL, data=mangled, content_type=CONTENT_TYPE)
    assert response.status_code < 500
    if response.status_code == 201:
        doc = response.get_json()
        assert client.get(f"{URL}/{doc['id']}/content").data.__len__() == doc["length"]
    else:
        assert response.get_json()["code"] == response.status_code
        assert db["attachments.files"].count_documents({}) == files_before
    live = {d["_id"] for d in db["attachments.files"].find({}, {"_id": 1})}
    assert set(db["attachments.chunks"].distinct("files_id")) <= live  # no orphan chunks


def test_concurrent_uploads_of_one_name_are_distinct_files(app: Flask) -> None:
    """Eight clients upload different bytes under one name at once: eight files, each
    downloading exactly what its client sent."""
    results: dict[int, dict[str, Any]] = {}

    def upload(i: int, base: str) -> None:
        body, content_type = multipart(text_of(300 * 1024, seed=i), filename="同名.txt")
        response = requests.post(
            f"{base}{URL}", data=body, headers={"Content-Type": content_type}, timeout=60
        )
        results[i] = response.json()

    with served(app) as base:
        threads = [threading.Thread(target=upload, args=(i, base)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len({doc["id"] for doc in results.values()}) == 8
        for i, doc in results.items():
            content = requests.get(f"{base}{URL}/{doc['id']}/content", timeout=60).content
            assert content == text_of(300 * 1024, seed=i)


def test_if_range_with_a_stale_tag_gets_the_whole_file(client: FlaskClient) -> None:
    """If-Range: the current ETag gives the range (206), a stale one the whole file (200)."""
    content = text_of(5000)
    body, content_type = multipart(content)
    doc = client.post(URL, data=body, content_type=content_type).get_json()
    url = f"{URL}/{doc['id']}/content"
    current = client.get(url, headers={"Range": "bytes=0-9", "If-Range": f'"{doc["sha256"]}"'})
    assert (current.status_code, current.data) == (206, content[:10])
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert (stale.status_code, stale.data) == (200, content)
