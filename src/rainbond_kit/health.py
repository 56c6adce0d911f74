"""Liveness (``/healthz``) and readiness (``/readyz``) endpoints for Rainbond's probes."""

from __future__ import annotations

import logging
from typing import Any

import pymongo
import pymongo.errors
import redis.exceptions
from flask import Blueprint, Response, current_app, jsonify

from rainbond_kit.errors import ServiceUnavailableError
from rainbond_kit.extension_state import get_state
from rainbond_kit.indexing import index_summary

__all__ = ["blueprint", "check_stores"]

log = logging.getLogger("rainbond_kit.health")

blueprint = Blueprint("rainbond_kit_health", __name__)


def check_stores() -> dict[str, str]:
    """Ping MongoDB and Redis; return ``{"mongodb": "ok"|"down", "redis": ...}``."""
    state = get_state()
    timeout = float(current_app.config["RAINBOND_READY_TIMEOUT"])
    checks: dict[str, str] = {}
    try:
        with pymongo.timeout(timeout):
            state.container.mongo_client().admin.command("ping")
        checks["mongodb"] = "ok"
    except pymongo.errors.PyMongoError as exc:
        log.warning("readiness: mongodb down: %s", type(exc).__name__)
        checks["mongodb"] = "down"
    if not state.redis_enabled:
        checks["redis"] = "disabled"
    else:
        try:
            state.container.redis_client().ping()
            checks["redis"] = "ok"
        except redis.exceptions.RedisError as exc:
            log.warning("readiness: redis down: %s", type(exc).__name__)
            checks["redis"] = "down"
    return checks


@blueprint.get("/healthz")
def healthz() -> Response:
    """Liveness: 200 while the process serves requests (no store I/O, no index work)."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> Response:
    """Readiness: 200 when every configured store answers, else 503 naming the ones down.

    ``indexes`` counts the declared indexes by state (``built``, ``pending``, ``conflict``,
    ``error``) from memory; it informs, it never makes the answer 503.
    """
    checks = check_stores()
    indexes = index_summary()
    down = sorted(name for name, result in checks.items() if result == "down")
    if down:
        extra: dict[str, Any] = {"checks": checks, "indexes": indexes}
        raise ServiceUnavailableError(f"unavailable: {', '.join(down)}", extra=extra)
    return jsonify(status="ok", checks=checks, indexes=indexes)
