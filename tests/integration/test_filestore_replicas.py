"""Two real server processes over one database serve each other's uploads; a client that
vanishes mid-upload leaves nothing behind.

Replica A is ``python -m sample_app`` (Werkzeug's threaded server), replica B gunicorn, as
in production; both point at the same MongoDB wire server.
"""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pymongo
import pytest
import requests

from tests.integration._filestore_support import URL, multipart, text_of
from tests.integration._replicas import two_replicas

Client = pymongo.MongoClient[dict[str, Any]]


@pytest.fixture
def replicas(mongo_uri: str, mongo_db_name: str, redis_url: str) -> Iterator[tuple[str, str]]:
    """Base URLs of two replicas of the sample app sharing this test's database."""
    env = {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name, "REDIS_URL": redis_url}
    with two_replicas(env) as bases:
        yield bases


def _upload(base: str, content: bytes) -> dict[str, Any]:
    body, content_type = multipart(content)
    response = requests.post(
        f"{base}{URL}", data=body, headers={"Content-Type": content_type}, timeout=60
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_each_replica_serves_the_others_uploads(replicas: tuple[str, str]) -> None:
    """Uploaded to A, downloaded whole and in ranges from B; and the other way round."""
    a, b = replicas
    for source, target, size in ((a, b, 3 * 1024 * 1024 + 17), (b, a, 600 * 1024)):
        content = text_of(size, seed=size % 97)
        doc = _upload(source, content)
        whole = requests.get(f"{target}{URL}/{doc['id']}/content", timeout=60)
        assert whole.status_code == 200
        assert hashlib.sha256(whole.content).hexdigest() == doc["sha256"]
        assert whole.content == content
        part = requests.get(
            f"{target}{URL}/{doc['id']}/content",
            headers={"Range": "bytes=261119-261120"},
            timeout=60,
        )
        assert (part.status_code, part.content) == (206, content[261119:261121])
        listed = requests.get(f"{target}{URL}?$limit=100", timeout=60).json()
        assert doc["id"] in {item["id"] for item in listed["items"]}


def _poll(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("replica", [0, 1], ids=["werkzeug", "gunicorn"])
def test_client_vanishing_mid_upload_leaves_no_chunks(
    replicas: tuple[str, str], mongo_client: Client, mongo_db_name: str, replica: int
) -> None:
    """A client sends headers and 2 MiB of a 4 MiB body, waits until chunks are in GridFS,
    then disconnects: the server aborts the upload and every chunk is deleted."""
    base = replicas[replica]
    body, content_type = multipart(text_of(4 * 1024 * 1024))
    chunks = mongo_client[mongo_db_name]["attachments.chunks"]
    files = mongo_client[mongo_db_name]["attachments.files"]
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            (
                f"POST {URL} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            + body[: 2 * 1024 * 1024]
        )
        _poll(lambda: chunks.count_documents({}) >= 2, "chunks of the partial upload")
    _poll(lambda: chunks.count_documents({}) == 0, "the aborted upload's chunks to go")
    assert files.count_documents({}) == 0
    assert _upload(base, b"still serving")["length"] == 13
