"""Fault injection: stop MongoDB or Redis under load, restart them, and watch the app recover.

The sample app runs on a real threaded server against its own SecantusDB (persistent storage
in tmp) and its own Redis. Every request is bounded in time; no restart of the app.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymongo
import pytest
import redis
import requests
from bson import ObjectId
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings
from rainbond_kit.auth import AuthSettings
from rainbond_kit.embedded import ChildServer, MongoProcess, RedisProcess
from tests.integration._served import Call, background_load, served, timed
from tests.integration.auth_support import (  # noqa: F401 - fixture
    REDIS_DB,
    AuthCenter,
    auth_env,
    own_redis_fixture,
    unique_name,
)

pytestmark = pytest.mark.slow

MONGODB_TIMEOUT_MS = 1000
#: Server selection waits MONGODB_TIMEOUT_MS; a retryable write selects once more after a
#: network error: 2 x 1 s, plus 1.5 s for the request itself on a loaded 2-core machine.
MONGO_BOUND_S = 2 * MONGODB_TIMEOUT_MS / 1000 + 1.5
#: Redis commands time out after the client's socket timeout (2 s); a refused connection is
#: immediate. One timeout plus the same 1.5 s.
REDIS_BOUND_S = 2.0 + 1.5
BOOKS = "/api/v1/books"


@pytest.fixture
def own_mongo(tmp_path: Path) -> Iterator[MongoProcess]:
    """A SecantusDB of this test's own, persisting to tmp, which the test stops and restarts."""
    server = MongoProcess(storage_path=tmp_path / "mongo")
    server.start()
    yield server
    server.stop()


def _wait_for(predicate: Any, timeout: float) -> float:
    """Poll ``predicate`` until true; return the seconds it took (fail after ``timeout``)."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, "condition not reached in time"
        time.sleep(0.05)
    return time.monotonic() - started


def _ready(url: str) -> int:
    return requests.get(f"{url}/readyz", timeout=10).status_code


@dataclass(frozen=True)
class Outage:
    """When a server was stopped (asked, gone) and restarted, and when /readyz noticed."""

    stopping_at: float
    fault_at: float
    readyz_down: float
    restart_at: float

    def split(self, calls: list[Call]) -> tuple[list[Call], list[Call]]:
        """The calls answered before the stop, and those sent and answered while it was gone.

        A call sent just before the restart may wait in server selection and be served by the
        restarted server (a 201): only calls answered before the restart must be 503s.
        """
        before = [c for c in calls if c.started + c.latency < self.stopping_at]
        during = [
            c
            for c in calls
            if self.fault_at < c.started and c.started + c.latency < self.restart_at
        ]
        return before, during


def _outage(url: str, server: ChildServer, *, after: float, length: float) -> Outage:
    """Stop ``server`` ``after`` seconds, wait for /readyz 503, restart it ``length`` later."""
    time.sleep(after)
    stopping_at = time.monotonic()
    server.stop()
    fault_at = time.monotonic()  # the server is gone: its port is free
    readyz_down = _wait_for(lambda: _ready(url) == 503, 10)
    time.sleep(length)
    restart_at = time.monotonic()
    server.start()
    return Outage(stopping_at, fault_at, readyz_down, restart_at)


def _envelopes_only(calls: list[Call], allowed: set[int]) -> None:
    statuses = {c.status for c in calls}
    assert statuses <= allowed, statuses
    for call in calls:
        if call.status >= 400:
            assert call.body["code"] == call.status, call.body


def test_mongo_outage_is_503_then_recovers_without_loss(
    own_mongo: MongoProcess, own_redis: RedisProcess
) -> None:
    """Mongo stopped under write load: bounded 503s, /readyz 503; restarted: writes resume, none lost."""
    settings = Settings.from_env(
        {
            "MONGODB_URI": own_mongo.uri,
            "MONGODB_DB": "faults",
            "MONGODB_TIMEOUT_MS": str(MONGODB_TIMEOUT_MS),
            "REDIS_URL": own_redis.url,
        }
    )
    app = create_app(settings)

    def create(session: requests.Session, worker: int) -> Call:
        return timed(session, "POST", f"{url}{BOOKS}", json={"title": f"w{worker}", "author": "a"})

    try:
        with served(app) as url, background_load(3, create) as calls:
            outage = _outage(url, own_mongo, after=1.5, length=2.5)
            recovery = _wait_for(
                lambda: any(c.status == 201 and c.started > outage.restart_at for c in list(calls)),
                30,
            )
            assert _ready(url) == 200
            time.sleep(0.5)
    finally:
        RainbondKit.shutdown(app)

    _envelopes_only(calls, {201, 503})
    before, during = outage.split(calls)
    assert before
    assert all(c.status == 201 for c in before)
    assert during
    assert all(c.status == 503 for c in during)
    max_latency = max(c.latency for c in calls)
    acknowledged = [c.body["id"] for c in calls if c.status == 201]
    with pymongo.MongoClient(own_mongo.uri, serverSelectionTimeoutMS=5000) as client:
        stored = {
            str(d["_id"])
            for d in client.faults.books.find(
                {"_id": {"$in": [ObjectId(i) for i in acknowledged]}}, {"_id": 1}
            )
        }
    print(
        f"\nmongo fault: {len(calls)} requests, {len(before)} before, {len(during)} during "
        f"(all 503), max latency {max_latency:.2f}s (bound {MONGO_BOUND_S}s), /readyz 503 "
        f"after {outage.readyz_down:.2f}s, recovered {recovery:.2f}s after restart, "
        f"{len(acknowledged)} acknowledged, {len(acknowledged) - len(stored)} lost"
    )
    assert max_latency < MONGO_BOUND_S
    assert set(acknowledged) == stored


@pytest.mark.parametrize(
    ("config", "refusal"),
    [
        ({}, "auth session store is unavailable"),
        ({"RAINBOND_RATELIMIT": "100000/minute"}, None),
    ],
    ids=["auth", "auth+ratelimit"],
)
def test_redis_outage_fails_closed_then_recovers(
    config: dict[str, str],
    refusal: str | None,
    own_redis: RedisProcess,
    mongo_uri: str,
    mongo_db_name: str,
    mongo_client: pymongo.MongoClient[dict[str, Any]],
) -> None:
    """Redis stopped: token checks and rate limits answer 503 (never 200); restarted: 200 again."""
    env = auth_env(mongo_db_name)
    sessions = redis.Redis.from_url(
        f"redis://127.0.0.1:{own_redis.port}/{REDIS_DB}", decode_responses=True
    )
    center = AuthCenter(mongo_client[mongo_db_name], sessions, env)
    role, user = unique_name(), unique_name()
    center.add_role(role, [1, 2, 4, 8])
    uid = center.add_user([role])
    token = center.login(uid, user)
    settings = Settings.from_env(
        {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name, "REDIS_URL": own_redis.url}
    )
    app = create_app(settings, config, auth=AuthSettings.from_env(env))

    def read(session: requests.Session, worker: int) -> Call:
        return timed(session, "GET", f"{url}{BOOKS}", headers={"token": token})

    try:
        with served(app) as url, background_load(2, read) as calls:
            outage = _outage(url, own_redis, after=1.0, length=2.0)
            center.login(uid, user)  # Redis kept nothing: the auth center's session is re-made
            recovery = _wait_for(
                lambda: any(c.status == 200 and c.started > outage.restart_at for c in list(calls)),
                30,
            )
            assert _ready(url) == 200
    finally:
        RainbondKit.shutdown(app)
        sessions.close()

    _envelopes_only(calls, {200, 401, 503})
    before, during = outage.split(calls)
    assert before
    assert all(c.status == 200 for c in before)
    assert during
    assert all(c.status == 503 for c in during), sorted(
        {(c.status, str(c.body)[:120]) for c in during}
    )
    messages = {c.body["message"] for c in during}
    expected = {"auth session store is unavailable", "rate limiting store is unavailable"}
    assert messages == {refusal} if refusal else messages <= expected, messages
    max_latency = max(c.latency for c in calls)
    print(
        f"\nredis fault ({', '.join(config) or 'auth only'}, {sorted(messages)}): {len(calls)} requests, {len(during)} during the outage (all 503), "
        f"max latency {max_latency:.2f}s (bound {REDIS_BOUND_S}s), /readyz 503 after "
        f"{outage.readyz_down:.2f}s, 200 again {recovery:.2f}s after restart"
    )
    assert max_latency < REDIS_BOUND_S
