"""Reaching the auth center's stores, failing closed: an outage is a 503, never a pass."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import pymongo.errors
import redis.exceptions

from rainbond_kit.errors import ServiceUnavailableError
from rainbond_kit.settings import RedisSettings

__all__ = ["redis_settings_for_db", "store_errors"]

log = logging.getLogger("rainbond_kit.auth")


def redis_settings_for_db(settings: RedisSettings, db: int) -> RedisSettings:
    """The same Redis server as ``settings``, database ``db`` (``REDIS_DB_PERMISSION``)."""
    parts = urlsplit(settings.url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"]
    if parts.scheme == "unix":
        query.append(("db", str(db)))
        url = parts._replace(query=urlencode(query)).geturl()
    else:
        url = parts._replace(path=f"/{db}", query=urlencode(query)).geturl()
    return RedisSettings(
        url=url, configured=settings.configured, socket_timeout=settings.socket_timeout
    )


@contextlib.contextmanager
def store_errors(what: str) -> Iterator[None]:
    """Turn a Redis or MongoDB failure inside the block into a 503 naming ``what``."""
    try:
        yield
    except (redis.exceptions.RedisError, pymongo.errors.PyMongoError) as exc:
        log.warning("auth: %s unavailable: %s", what, type(exc).__name__)
        raise ServiceUnavailableError(f"{what} is unavailable") from None
