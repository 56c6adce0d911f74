"""Request metrics (counter, latency histogram, in-flight gauge) and the ``/metrics`` view."""

from __future__ import annotations

import hmac
import sys
import time
from typing import Any

import redis.exceptions
from flask import Blueprint, Flask, Response, current_app, g, request, request_finished
from flask import request_started as flask_request_started
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import HTTPException

from rainbond_kit.errors import UnauthorizedError
from rainbond_kit.extension_state import get_state
from rainbond_kit.observability.metrics import (
    AUTH_FAILURES,
    HTTP_DURATION,
    HTTP_IN_FLIGHT,
    HTTP_REQUESTS,
    INDEXES_READY,
    RATELIMIT_REJECTIONS,
    REDIS_ERRORS,
    child,
    scrape_registry,
)
from rainbond_kit.ratelimit import exempt

__all__ = ["ENDPOINT", "ERROR_OBSERVER", "UNMATCHED", "install_http_metrics", "observe_error"]

#: the ``route`` label of requests no URL rule matched (404, 405 on unknown paths)
UNMATCHED = "<unmatched>"
ENDPOINT = "rainbond_kit_metrics.metrics"
_G_START = "_rainbond_metrics_start"
_ENABLED = "rainbond_kit_metrics"
#: ``app.extensions`` key of the callable the error envelope reports each error to
ERROR_OBSERVER = "rainbond_kit_error_observer"

#: the auth layer's 401 messages (``rainbond_kit.auth.context``), by the reason label they count as
_AUTH_REASONS = {
    "missing token": "missing_token",
    "token verification failed": "invalid_token",
    "the session has ended": "session_ended",
    "the user no longer exists": "unknown_user",
    "metrics token": "metrics_token",
}

blueprint = Blueprint("rainbond_kit_metrics", __name__)


@blueprint.get("/metrics")
@exempt
def metrics() -> Response:
    """Prometheus text format; with ``RAINBOND_METRICS_TOKEN`` set, only for that bearer token."""
    token = str(current_app.config.get("RAINBOND_METRICS_TOKEN") or "")
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise UnauthorizedError("metrics token required: Authorization: Bearer <token>")
    _index_states()
    body = generate_latest(scrape_registry())
    return Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)


def _index_states() -> None:
    """``rainbond_mongodb_indexes_ready`` of each collection from the app's index board (no I/O):
    1 when all its declared indexes are built, else 0."""
    ready: dict[str, bool] = {}
    for entry in get_state().indexes.board.entries():
        ready[entry.collection] = ready.get(entry.collection, True) and entry.status == "built"
    for collection, built in ready.items():
        child(INDEXES_READY, collection).set(1 if built else 0)


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _started(sender: Flask, **_: Any) -> None:
    # the URL rule is matched before request_started: read the request once, here
    current = request._get_current_object()  # type: ignore[attr-defined]  # werkzeug proxy
    if current.endpoint == ENDPOINT:
        return
    rule = current.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    setattr(g, _G_START, (time.perf_counter(), current.method, route))
    HTTP_IN_FLIGHT.inc()


def _finished(sender: Flask, response: Response, **_: Any) -> None:
    started: tuple[float, str, str] | None = g.pop(_G_START, None)
    if started is None:
        return
    start, method, route = started
    HTTP_IN_FLIGHT.dec()
    child(HTTP_REQUESTS, method, route, str(response.status_code)).inc()
    child(HTTP_DURATION, method, route).observe(time.perf_counter() - start)


def _teardown(exc: BaseException | None) -> None:
    if g.pop(_G_START, None) is not None:  # no response was finalized
        HTTP_IN_FLIGHT.dec()


def install_http_metrics(app: Flask) -> None:
    """Count this app's requests and serve ``/metrics`` on its port."""
    app.extensions[_ENABLED] = True
    app.extensions[ERROR_OBSERVER] = observe_error
    # strong references: blinker holds receivers weakly by default
    flask_request_started.connect(_started, app, weak=False)
    request_finished.connect(_finished, app, weak=False)
    app.teardown_request(_teardown)
    app.register_blueprint(blueprint)


def _auth_reason(error: HTTPException) -> str:
    if error.code == 403:
        return "forbidden"
    text = (error.description or "").lower()
    for prefix, reason in _AUTH_REASONS.items():
        if text.startswith(prefix):
            return reason
    return "other"


def _redis_cause(error: BaseException) -> redis.exceptions.RedisError | None:
    """The Redis error behind ``error`` (its context chain, or the exception being handled)."""
    for candidate in (error, sys.exc_info()[1]):
        seen: BaseException | None = candidate
        while seen is not None:
            if isinstance(seen, redis.exceptions.RedisError):
                return seen
            seen = seen.__cause__ or seen.__context__
    return None


def observe_error(error: HTTPException) -> None:
    """Count what an error response says about auth, rate limits and Redis (the envelope calls it)."""
    code = error.code or 500
    if code == 429:
        RATELIMIT_REJECTIONS.labels(_route()).inc()
    elif code in (401, 403):
        AUTH_FAILURES.labels(_auth_reason(error)).inc()
    elif code >= 500:
        cause = _redis_cause(error)
        if cause is not None:
            REDIS_ERRORS.labels(type(cause).__name__).inc()
