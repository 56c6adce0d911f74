"""Reaching the auth center's stores, failing closed: an outage is a 503, never a pass."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from rainbond_kit.settings import RedisSettings

__all__ = ["redis_settings_for_db"]


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
