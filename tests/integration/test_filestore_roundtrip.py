"""File resources over HTTP against a real MongoDB wire server: upload, download, Range, 304."""

from __future__ import annotations

import hashlib
from typing import Any

import pymongo
import pytest
from flask.testing import FlaskClient

from tests.integration._filestore_support import BOOK_ID, CHUNK, URL, multipart, text_of

Client = pymongo.MongoClient[dict[str, Any]]


def upload(client: FlaskClient, content: bytes, **kwargs: Any) -> dict[str, Any]:
    body, content_type = multipart(content, **kwargs)
    response = client.post(URL, data=body, content_type=content_type)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 5 * 1024 * 1024 + 3]
)
def test_upload_then_download_is_byte_identical(
    client: FlaskClient, mongo_client: Client, mongo_db_name: str, size: int
) -> None:
    """Every size round-trips exactly; the document states length, checksum and chunk count."""
    content = text_of(size, seed=size % 9999)
    doc = upload(client, content)
    digest = hashlib.sha256(content).hexdigest()
    assert (doc["length"], doc["sha256"], doc["filename"]) == (size, digest, "notes.txt")
    assert (doc["media_type"], doc["book_id"], doc["uploader"]) == ("text/plain", BOOK_ID, None)
    response = client.get(f"{URL}/{doc['id']}/content")
    assert response.status_code == 200
    assert response.data == content
    assert response.headers["ETag"] == f'"{digest}"'
    assert response.headers["Content-Length"] == str(size)
    assert response.headers["Accept-Ranges"] == "bytes"
    chunks = mongo_client[mongo_db_name]["attachments.chunks"]
    assert chunks.count_documents({}) == -(-size // CHUNK)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=0-", 0, 2 * CHUNK + 9),
        (f"bytes={CHUNK - 1}-{CHUNK}", CHUNK - 1, CHUNK),
        (f"bytes={CHUNK}-{CHUNK}", CHUNK, CHUNK),
        (f"bytes={CHUNK - 1}-{2 * CHUNK}", CHUNK - 1, 2 * CHUNK),
        (f"bytes={2 * CHUNK + 9}-", 2 * CHUNK + 9, 2 * CHUNK + 9),
        ("bytes=-1", 2 * CHUNK + 9, 2 * CHUNK + 9),
        ("bytes=-10", 2 * CHUNK, 2 * CHUNK + 9),
        (f"bytes=5-{10 * CHUNK}", 5, 2 * CHUNK + 9),  # an end past the file is clamped
        (f"bytes=-{10 * CHUNK}", 0, 2 * CHUNK + 9),
    ],
)
def test_range_at_every_boundary(client: FlaskClient, header: str, start: int, end: int) -> None:
    """A satisfiable single range is a 206 with exactly those bytes and its Content-Range."""
    content = text_of(2 * CHUNK + 10)
    doc = upload(client, content)
    response = client.get(f"{URL}/{doc['id']}/content", headers={"Range": header})
    assert response.status_code == 206
    assert response.data == content[start : end + 1]
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(content)}"
    assert response.headers["Content-Length"] == str(end - start + 1)


@pytest.mark.parametrize("header", ["bytes=2000-", "bytes=2000-2001", "bytes=2500-3000"])
def test_range_past_the_end_is_416(client: FlaskClient, header: str) -> None:
    """A range starting at or past the end is a 416 envelope naming the length."""
    doc = upload(client, text_of(2000))
    response = client.get(f"{URL}/{doc['id']}/content", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */2000"
    assert response.get_json()["code"] == 416


def test_a_range_on_an_empty_file_is_ignored(client: FlaskClient) -> None:
    """0 bytes: Range is ignored (RFC 9110 allows it) and the empty file is a 200."""
    doc = upload(client, b"")
    response = client.get(f"{URL}/{doc['id']}/content", headers={"Range": "bytes=0-"})
    assert (response.status_code, response.data) == (200, b"")
    assert "Content-Range" not in response.headers


def test_several_ranges_get_the_whole_file(client: FlaskClient) -> None:
    """The documented choice: a multi-range request is answered with the whole file (200)."""
    content = text_of(1000)
    doc = upload(client, content)
    response = client.get(f"{URL}/{doc['id']}/content", headers={"Range": "bytes=0-1,5-6"})
    assert (response.status_code, response.data) == (200, content)


def test_if_none_match_is_304_and_a_stale_tag_is_200(client: FlaskClient) -> None:
    """The ETag is the SHA-256: holding it gives 304 with no body; another tag the file."""
    content = b"hello world\n"
    doc = upload(client, content)
    url = f"{URL}/{doc['id']}/content"
    etag = client.get(url).headers["ETag"]
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.data) == (304, b"")
    stale = client.get(url, headers={"If-None-Match": '"0000"'})
    assert (stale.status_code, stale.data) == (200, content)


def test_head_gives_headers_without_body(client: FlaskClient) -> None:
    """HEAD answers with the GET headers (length, ETag, disposition) and no bytes."""
    doc = upload(client, b"abc")
    response = client.head(f"{URL}/{doc['id']}/content")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "3"
    assert response.headers["ETag"] == f'"{doc["sha256"]}"'


def test_chinese_file_names_survive_in_content_disposition(client: FlaskClient) -> None:
    """A UTF-8 name is stored as sent and offered as filename* (RFC 5987) plus an ASCII fallback."""
    doc = upload(client, b"report", filename="报告 2024.txt")
    assert doc["filename"] == "报告 2024.txt"
    response = client.get(f"{URL}/{doc['id']}/content")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"2024.txt\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%202024.txt"
    )


def test_same_name_twice_is_two_files(client: FlaskClient) -> None:
    """Uploads never overwrite: the same name gives two ids, each with its own bytes."""
    first = upload(client, b"first", filename="same.txt")
    second = upload(client, b"second", filename="same.txt")
    assert first["id"] != second["id"]
    assert client.get(f"{URL}/{first['id']}/content").data == b"first"
    assert client.get(f"{URL}/{second['id']}/content").data == b"second"


def test_fields_before_the_file_are_accepted(client: FlaskClient) -> None:
    """Metadata parts may come before or after the file part."""
    doc = upload(
        client, b"x", fields=(("book_id", BOOK_ID), ("caption", "封面")), fields_first=True
    )
    assert (doc["book_id"], doc["caption"]) == (BOOK_ID, "封面")
