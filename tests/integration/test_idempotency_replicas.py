"""Issue 17, done-when: 100 concurrent POSTs with one ``Idempotency-Key`` across two app
processes create exactly one document, and every client gets the identical response.

Replica A is ``python -m sample_app`` (Werkzeug's threaded server), replica B gunicorn; both
share one MongoDB database and one Redis.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pymongo
import pytest
import requests

from tests.integration._replicas import two_replicas

BOOKS = "/api/v1/books"
CLIENTS = 100


@pytest.fixture
def replicas(mongo_uri: str, mongo_db_name: str, redis_url: str) -> Iterator[tuple[str, str]]:
    """Base URLs of two replicas of the sample app sharing this test's database and Redis."""
    env = {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name, "REDIS_URL": redis_url}
    env["RAINBOND_IDEMPOTENCY_WAIT"] = "120"  # a slow shared machine: wait, never 409
    with two_replicas(env, threads=8) as bases:
        yield bases


def test_one_key_across_two_processes_creates_one_document(
    replicas: tuple[str, str],
    mongo_client: pymongo.MongoClient[dict[str, Any]],
    mongo_db_name: str,
) -> None:
    """100 clients released together, half on each replica, same key and body: 100 answers
    201 with byte-identical bodies, ``Location`` and ``ETag``; exactly one is the original
    (no ``Idempotent-Replayed``); one document in MongoDB."""
    title = f"once-{uuid.uuid4().hex}"
    body = {"title": title, "author": "Ursula K. Le Guin", "year": 1969}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    barrier = threading.Barrier(CLIENTS)
    answers: list[requests.Response | BaseException] = []
    lock = threading.Lock()

    def post(base: str) -> None:
        barrier.wait()
        try:
            answer: requests.Response | BaseException = requests.post(
                f"{base}{BOOKS}", json=body, headers=headers, timeout=180
            )
        except requests.RequestException as exc:
            answer = exc
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=post, args=(replicas[i % 2],)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    responses = [a for a in answers if isinstance(a, requests.Response)]
    assert len(responses) == CLIENTS, [a for a in answers if not isinstance(a, requests.Response)]
    assert {r.status_code for r in responses} == {201}, {r.status_code for r in responses}
    assert len({r.content for r in responses}) == 1
    assert len({(r.headers["Location"], r.headers["Content-Type"]) for r in responses}) == 1
    originals = [r for r in responses if "Idempotent-Replayed" not in r.headers]
    assert len(originals) == 1
    assert {r.headers.get("Idempotent-Replayed") for r in responses} == {None, "true"}
    assert mongo_client[mongo_db_name]["books"].count_documents({"title": title}) == 1
