"""Safe retries: the ``Idempotency-Key`` request header (IETF httpapi draft) on writes.

A ``POST`` or ``PATCH`` carrying ``Idempotency-Key: <key>`` runs once per client and key; the
first response (status, the headers a client acts on, body) is kept in Redis for
``RAINBOND_IDEMPOTENCY_TTL`` seconds and a retry gets it back unchanged, with
``Idempotent-Replayed: true`` added, without running the write again. So does a retry through
another worker or replica: the record lives in Redis, claimed with one ``SET NX PX``.

* the client is the authenticated user (``user:<uid>``), else the client address as
  ``RAINBOND_TRUSTED_PROXIES`` says (the rate limits' :func:`~rainbond_kit.ratelimit.client_key`);
* the request's fingerprint is its method, path, query string and body bytes (SHA-256); the
  same key with another fingerprint is a 422;
* a retry while the first request still runs waits up to ``RAINBOND_IDEMPOTENCY_WAIT`` seconds
  for its response, then gets a 409 with ``Retry-After``;
* responses of 500 and over are not kept (the key is released: a retry runs again); a claim
  whose holder died expires after ``RAINBOND_IDEMPOTENCY_LOCK`` seconds;
* without Redis a request with the header is a 501: the kit cannot keep its promise, so it
  does not run the write as if it could. A malformed key is a 400.

The record's key is hash-tagged (``rainbond:idempotency:{...}``): one Cluster slot each.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import redis.exceptions
from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from rainbond_kit.data.store_errors import http_error_for
from rainbond_kit.env import integer
from rainbond_kit.envelope import render_error
from rainbond_kit.errors import ConfigurationError, http_error
from rainbond_kit.extension_state import get_state
from rainbond_kit.ratelimit import client_key

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "IdempotencyConfig",
    "idempotent",
    "init_idempotency",
]

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("rainbond_kit.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PREFIX = "rainbond:idempotency"
#: the methods a key applies to (``PUT`` and ``DELETE`` are idempotent already)
METHODS = frozenset({"POST", "PATCH"})
#: response headers kept with the response (the rest are per-request: dates, request ids)
KEPT_HEADERS = ("Content-Type", "Content-Language", "Location", "ETag", "Vary")
_CONFIG = "rainbond_kit_idempotency"
_NAMES = ("RAINBOND_IDEMPOTENCY_TTL", "RAINBOND_IDEMPOTENCY_WAIT", "RAINBOND_IDEMPOTENCY_LOCK")
_MAX_KEY = 255
_POLL = 0.05

# Store the final response only while this request still holds the claim (its token).
_FINISH = """
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if cjson.decode(current)['token'] ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""
# Release the claim (a failed first request) only if it is still this request's.
_RELEASE = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['token'] == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class IdempotencyConfig:
    """The ``RAINBOND_IDEMPOTENCY_*`` keys, validated once by :func:`init_idempotency`."""

    #: seconds a response is kept for retries
    ttl: int = 86400
    #: seconds a retry waits for the first request's response before its 409
    wait: int = 10
    #: seconds a claim lives when its holder never finishes (a crashed process)
    lock: int = 300

    @classmethod
    def from_app(cls, app: Flask) -> IdempotencyConfig:
        """Read the keys (``app.config`` beats the environment).

        :raises ConfigurationError: a value is not a whole number in range (named).
        """
        env = dict(os.environ)
        for name in _NAMES:
            value = app.config.get(name)
            if value is not None and value != "":
                env[name] = str(value)
        config = cls(
            ttl=integer(env, "RAINBOND_IDEMPOTENCY_TTL", cls.ttl, minimum=1),
            wait=integer(env, "RAINBOND_IDEMPOTENCY_WAIT", cls.wait, minimum=0),
            lock=integer(env, "RAINBOND_IDEMPOTENCY_LOCK", cls.lock, minimum=1),
        )
        if config.lock > config.ttl:
            raise ConfigurationError(
                "RAINBOND_IDEMPOTENCY_LOCK must not be over RAINBOND_IDEMPOTENCY_TTL"
            )
        return config


def init_idempotency(app: Flask) -> None:
    """Validate the ``RAINBOND_IDEMPOTENCY_*`` keys once (``RainbondKit`` calls it)."""
    app.extensions[_CONFIG] = IdempotencyConfig.from_app(app)


def _config() -> IdempotencyConfig:
    config: IdempotencyConfig | None = current_app.extensions.get(_CONFIG)
    return config or IdempotencyConfig()


def _key() -> str | None:
    """The request's key (a quoted sf-string or a bare token); 400 when malformed."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > _MAX_KEY or not all(" " <= c <= "~" and c != '"' for c in key):
        raise http_error(
            400,
            f"Idempotency-Key must be 1 to {_MAX_KEY} printable ASCII characters "
            "(no double quote), optionally in double quotes",
        )
    return key


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(request.get_data(cache=True))  # bounded by MAX_CONTENT_LENGTH
    return digest.hexdigest()


def _record_key(key: str) -> str:
    who = hashlib.sha256(f"{client_key()}\0{key}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{KEY_PREFIX}:{{{who}}}"


def _replay(record: dict[str, Any]) -> Response:
    response = current_app.response_class(
        base64.b64decode(record["body"]), status=int(record["status"])
    )
    response.headers.clear()
    for name, value in record["headers"]:
        response.headers.add(name, value)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _stored(response: Response, fingerprint: str, token: str) -> str:
    headers = [(k, v) for k, v in response.headers.items() if k in KEPT_HEADERS]
    body = base64.b64encode(response.get_data()).decode("ascii")
    record = {
        "token": token,
        "state": "done",
        "fingerprint": fingerprint,
        "status": response.status_code,
        "headers": headers,
        "body": body,
    }
    return json.dumps(record)


class _Store:
    """The record of one (client, key) in Redis."""

    def __init__(self, key: str, fingerprint: str) -> None:
        state = get_state()
        self.client = state.container.redis_client()
        self.key = key
        self.fingerprint = fingerprint
        self.token = secrets.token_hex(16)

    def claim(self, lock_seconds: int) -> dict[str, Any] | None:
        """Claim the key (``None``), or the record another request left there."""
        running = {"token": self.token, "state": "running", "fingerprint": self.fingerprint}
        if self.client.set(self.key, json.dumps(running), nx=True, px=lock_seconds * 1000):
            return None
        raw = self.client.get(self.key)
        return json.loads(raw) if raw else {"state": "gone"}

    def finish(self, response: Response, ttl: int) -> None:
        record = _stored(response, self.fingerprint, self.token)
        self.client.eval(_FINISH, 1, self.key, self.token, record, ttl * 1000)

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.token)


def _run(view: Callable[..., Any], key: str, *args: Any, **kwargs: Any) -> Response:
    config = _config()
    store = _Store(_record_key(key), _fingerprint())
    deadline = time.monotonic() + config.wait
    while True:
        record = store.claim(config.lock)
        if record is None:
            break
        if record["state"] == "gone":  # expired between SET NX and GET: claim again
            continue
        if record["fingerprint"] != store.fingerprint:
            raise http_error(
                422, "this Idempotency-Key was used for a different request (method, path or body)"
            )
        if record["state"] == "done":
            return _replay(record)
        if time.monotonic() >= deadline:
            raise http_error(
                409,
                "a request with this Idempotency-Key is still being processed; retry later",
                headers={"Retry-After": "1"},
            )
        time.sleep(_POLL)
    try:
        response = current_app.make_response(view(*args, **kwargs))
    except BaseException:
        _quietly(store.release)
        raise
    if response.status_code >= 500 or response.is_streamed:
        _quietly(store.release)
    else:
        _quietly(lambda: store.finish(response, config.ttl))
    return response


def _quietly(step: Callable[[], None]) -> None:
    """Record or release after the write ran: a Redis failure now must not turn the write's
    answer into a 503 (the client would retry a write that happened); the claim then expires
    after ``RAINBOND_IDEMPOTENCY_LOCK``."""
    try:
        step()
    except redis.exceptions.RedisError as exc:
        log.warning("idempotency record not stored: %s: %s", type(exc).__name__, exc)


def idempotent(view: F) -> F:
    """Honour ``Idempotency-Key`` on the ``POST``/``PATCH`` requests ``view`` serves.

    Put it inside the permission check (first in ``MethodView.decorators``) so the caller is
    known. Errors the view raises (4xx envelopes) are kept like any other response.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method not in METHODS:
            return view(*args, **kwargs)
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        if not get_state().redis_enabled:
            raise http_error(
                501, "Idempotency-Key needs Redis, which this server has not configured"
            )
        try:
            return _run(_rendered(view), key, *args, **kwargs)
        except redis.exceptions.RedisError as exc:
            raise http_error_for(exc, store="idempotency store") or exc from None

    return cast(F, wrapper)


def _rendered(view: Callable[..., Any]) -> Callable[..., Any]:
    """``view`` with its 4xx errors rendered as envelopes, so they are kept like any response."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except HTTPException as exc:
            if (exc.code or 500) >= 500:
                raise
            return render_error(exc)

    return call
