"""Issue 17: ``Idempotency-Key`` over real Redis and MongoDB: replays are identical and run
nothing, another request under the same key is a 422, a retry of a running request waits then
409s, failures (5xx) are not kept, the key is per client, and without Redis the header is a 501."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import marshmallow as ma
import pymongo
import pytest
from flask import Flask
from flask.testing import FlaskClient

from rainbond_kit import ConfigurationError, RainbondKit, Settings, idempotent
from rainbond_kit.embedded import RedisProcess
from rainbond_kit.resource import ALL_OPERATIONS
from tests.conftest import KitAppFactory
from tests.integration.auth_support import own_redis_fixture  # noqa: F401 - fixture
from tests.integration.contract_support import make_resource, serve

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


class Book(ma.Schema):
    title = ma.fields.String(required=True)
    year = ma.fields.Integer()


class Gate:
    """Lets a test hold a create inside the server (``before_insert``) and fail one on demand."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.failures = 0
        self.calls = 0
        self.during: Callable[[], None] | None = None

    def before_insert(self, doc: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        self.entered.set()
        assert self.release.wait(60)
        if self.during is not None:
            self.during()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("a failure inside the create")
        return doc


@pytest.fixture
def gate() -> Gate:
    return Gate()


def _app(settings: Settings, gate: Gate, **config: Any) -> Flask:
    resource = make_resource(
        Book,
        collection="books",
        ETAG=True,
        OPERATIONS=ALL_OPERATIONS | {"batch"},
        before_insert=lambda self, doc: gate.before_insert(doc),
    )
    return serve(settings, resource, **config)


@pytest.fixture
def app(rainbond_settings: Settings, gate: Gate) -> Iterator[Flask]:
    app = _app(rainbond_settings, gate, RAINBOND_IDEMPOTENCY_WAIT=0)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def books(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str
) -> pymongo.collection.Collection[dict[str, Any]]:
    return mongo_client[mongo_db_name]["books"]


def _key() -> dict[str, str]:
    return {KEY: str(uuid.uuid4())}


def _same(first: Any, again: Any) -> None:
    assert again.status_code == first.status_code
    assert again.get_data() == first.get_data()
    for name in ("Content-Type", "Location", "ETag", "Content-Language"):
        assert again.headers.get(name) == first.headers.get(name), name
    assert first.headers.get(REPLAYED) is None
    assert again.headers[REPLAYED] == "true"


def test_a_retried_post_gets_the_first_response_and_creates_nothing(
    client: FlaskClient, books: pymongo.collection.Collection[dict[str, Any]], gate: Gate
) -> None:
    """Same key, same body: the second answer is byte-identical (status, body, Location,
    ETag) plus ``Idempotent-Replayed: true``; one document, the create ran once. A new key
    creates again (control)."""
    headers = _key()
    first = client.post("/things", json={"title": "t"}, headers=headers)
    assert first.status_code == 201
    again = client.post("/things", json={"title": "t"}, headers=headers)
    _same(first, again)
    assert books.count_documents({}) == 1
    assert gate.calls == 1
    other = client.post("/things", json={"title": "t"}, headers=_key())
    assert other.status_code == 201
    assert other.get_json()["id"] != first.get_json()["id"]
    assert books.count_documents({}) == 2


def test_a_quoted_key_is_the_same_key(client: FlaskClient) -> None:
    """The draft's sf-string form (``"abc"``) and the bare form name one key."""
    key = uuid.uuid4().hex
    first = client.post("/things", json={"title": "t"}, headers={KEY: f'"{key}"'})
    again = client.post("/things", json={"title": "t"}, headers={KEY: key})
    _same(first, again)


def test_the_same_key_for_another_request_is_a_422(
    client: FlaskClient, books: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """Another body, another path or another method under a used key: 422, nothing written."""
    headers = _key()
    first = client.post("/things", json={"title": "t"}, headers=headers)
    item = first.get_json()["id"]
    for method, url, body in (
        ("POST", "/things", {"title": "u"}),
        ("POST", "/things/batch", {"operations": []}),
        ("PATCH", f"/things/{item}", {"title": "t"}),
    ):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == 422, (method, url)
        assert response.get_json()["message"] == (
            "this Idempotency-Key was used for a different request (method, path or body)"
        )
        assert REPLAYED not in response.headers
    assert books.count_documents({}) == 1
    assert client.get(f"/things/{item}").get_json()["title"] == "t"


def test_a_retry_while_the_first_runs_is_a_409_then_a_replay(
    client: FlaskClient,
    app: Flask,
    books: pymongo.collection.Collection[dict[str, Any]],
    gate: Gate,
) -> None:
    """With ``RAINBOND_IDEMPOTENCY_WAIT=0`` a retry during the first request is a 409 with
    ``Retry-After``; once the first finishes the retry gets its response."""
    headers = _key()
    gate.release.clear()
    answers: list[Any] = []
    first = threading.Thread(
        target=lambda: answers.append(
            app.test_client().post("/things", json={"title": "t"}, headers=headers)
        )
    )
    first.start()
    try:
        assert gate.entered.wait(60)
        busy = client.post("/things", json={"title": "t"}, headers=headers)
        assert busy.status_code == 409
        assert busy.headers["Retry-After"] == "1"
        assert busy.get_json()["message"] == (
            "a request with this Idempotency-Key is still being processed; retry later"
        )
    finally:
        gate.release.set()
        first.join(60)
    _same(answers[0], client.post("/things", json={"title": "t"}, headers=headers))
    assert books.count_documents({}) == 1


def test_a_retry_waits_for_the_first_response_when_allowed(
    rainbond_settings: Settings, gate: Gate, books: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """With the default wait, a retry during the first request gets the first response."""
    app = _app(rainbond_settings, gate)
    try:
        headers = _key()
        gate.release.clear()
        answers: list[Any] = []

        def post() -> None:
            answers.append(app.test_client().post("/things", json={"title": "t"}, headers=headers))

        first = threading.Thread(target=post)
        first.start()
        assert gate.entered.wait(60)
        second = threading.Thread(target=post)
        second.start()
        gate.release.set()
        first.join(60)
        second.join(60)
        original, replay = sorted(answers, key=lambda r: REPLAYED in r.headers)
        _same(original, replay)
        assert books.count_documents({}) == 1
    finally:
        gate.release.set()
        RainbondKit.shutdown(app)


def test_a_failed_first_request_is_not_kept(
    client: FlaskClient, books: pymongo.collection.Collection[dict[str, Any]], gate: Gate
) -> None:
    """A 500 releases the key: the retry runs and creates; its 201 is then kept."""
    headers = _key()
    gate.failures = 1
    failed = client.post("/things", json={"title": "t"}, headers=headers)
    assert failed.status_code == 500
    retried = client.post("/things", json={"title": "t"}, headers=headers)
    assert retried.status_code == 201
    assert REPLAYED not in retried.headers
    _same(retried, client.post("/things", json={"title": "t"}, headers=headers))
    assert books.count_documents({}) == 1


def test_client_errors_are_kept_like_any_response(client: FlaskClient, gate: Gate) -> None:
    """A 422 (invalid body) is the request's response too: replayed, not re-validated."""
    headers = _key()
    first = client.post("/things", json={"year": "x"}, headers=headers)
    assert first.status_code == 422
    _same(first, client.post("/things", json={"year": "x"}, headers=headers))


def test_the_key_belongs_to_one_client(
    client: FlaskClient, books: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """Two clients (addresses) using the same key each get their own create."""
    headers = _key()
    one = client.post("/things", json={"title": "t"}, headers=headers)
    two = client.post(
        "/things",
        json={"title": "t"},
        headers=headers,
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert (one.status_code, two.status_code) == (201, 201)
    assert REPLAYED not in two.headers
    assert books.count_documents({}) == 2


def test_patch_and_batch_are_replayed_too(
    client: FlaskClient, books: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    """A retried PATCH answers the first response (its ETag stays at version 1); a retried
    batch creates its documents once."""
    item = client.post("/things", json={"title": "t"}).get_json()["id"]
    headers = _key()
    first = client.patch(f"/things/{item}", json={"year": 1}, headers=headers)
    assert first.headers["ETag"] == '"1"'
    _same(first, client.patch(f"/things/{item}", json={"year": 1}, headers=headers))
    batch = {"operations": [{"op": "create", "data": {"title": "b"}}] * 3}
    headers = _key()
    first = client.post("/things/batch", json=batch, headers=headers)
    assert first.status_code == 207
    _same(first, client.post("/things/batch", json=batch, headers=headers))
    assert books.count_documents({"title": "b"}) == 3


@pytest.mark.parametrize("key", ["", "x" * 256, "ключ", '"', 'a"b', '""'])
def test_a_malformed_key_is_a_400(client: FlaskClient, key: str) -> None:
    """Empty, too long, non-ASCII: 400 naming the header; a 255-character key passes."""
    response = client.post("/things", json={"title": "t"}, headers={KEY: key})
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "Idempotency-Key must be 1 to 255 printable ASCII characters (no double quote), "
        "optionally in double quotes"
    )
    ok = client.post("/things", json={"title": "t"}, headers={KEY: "x" * 255})
    assert ok.status_code == 201


def test_without_redis_the_header_is_a_501(
    mongo_uri: str,
    mongo_db_name: str,
    gate: Gate,
    books: pymongo.collection.Collection[dict[str, Any]],
) -> None:
    """No Redis: a write with the key is refused (501), nothing written; without it the same
    write succeeds (control)."""
    settings = Settings.from_env({"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name})
    app = _app(settings, gate)
    try:
        client = app.test_client()
        refused = client.post("/things", json={"title": "t"}, headers=_key())
        assert refused.status_code == 501
        assert refused.get_json()["message"] == (
            "Idempotency-Key needs Redis, which this server has not configured"
        )
        assert books.count_documents({}) == 0
        assert client.post("/things", json={"title": "t"}).status_code == 201
    finally:
        RainbondKit.shutdown(app)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RAINBOND_IDEMPOTENCY_TTL", "0"),
        ("RAINBOND_IDEMPOTENCY_TTL", "a day"),
        ("RAINBOND_IDEMPOTENCY_WAIT", "-1"),
        ("RAINBOND_IDEMPOTENCY_LOCK", "999999999"),
    ],
)
def test_malformed_settings_fail_at_start_up(
    rainbond_settings: Settings, gate: Gate, name: str, value: str
) -> None:
    """Each key is checked once, naming itself."""
    with pytest.raises(ConfigurationError, match=name):
        _app(rainbond_settings, gate, **{name: value})


def test_redis_failing_around_the_write(
    own_redis: RedisProcess,
    mongo_uri: str,
    mongo_db_name: str,
    gate: Gate,
    books: pymongo.collection.Collection[dict[str, Any]],
) -> None:
    """Redis stops while the create runs: the client still gets the create's 201 (a 503 would
    make it retry a write that happened). With Redis down before the claim: 503 naming the
    idempotency store, nothing written."""
    env = {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name, "REDIS_URL": own_redis.url}
    app = _app(Settings.from_env(env), gate)
    try:
        client = app.test_client()
        gate.during = own_redis.stop
        created = client.post("/things", json={"title": "t"}, headers=_key())
        assert created.status_code == 201
        assert books.count_documents({}) == 1
        gate.during = None
        refused = client.post("/things", json={"title": "u"}, headers=_key())
        assert refused.status_code == 503
        assert refused.get_json()["message"] == "idempotency store is unavailable"
        assert books.count_documents({}) == 1
    finally:
        RainbondKit.shutdown(app)


def test_a_plain_flask_view_can_be_idempotent(
    rainbond_settings: Settings, make_kit_app: KitAppFactory
) -> None:
    """``@idempotent`` on an application's own view: the retry is replayed, the view ran once."""
    app = make_kit_app(rainbond_settings)
    calls: list[int] = []

    @app.post("/counter")
    @idempotent
    def counter() -> Any:
        calls.append(1)
        return {"calls": len(calls)}, 201

    client = app.test_client()
    headers = _key()
    first = client.post("/counter", json={}, headers=headers)
    assert first.get_json() == {"calls": 1}
    _same(first, client.post("/counter", json={}, headers=headers))
    assert len(calls) == 1
