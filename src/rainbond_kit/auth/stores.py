"""Reaching the auth center's stores, failing closed: an outage is a 503, never a pass."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, urlencode, urlsplit

from rainbond_kit.settings import RedisSettings

__all__ = ["redis_settings_for_db"]


def redis_settings_for_db(settings: RedisSettings, db: int) -> RedisSettings:
    """The same Redis as ``settings``, database ``db`` (``REDIS_DB_PERMISSION``).

    A Cluster has only database 0: its settings come back unchanged and the sessions are
    told apart by a key prefix instead (:func:`rainbond_kit.redis_client.key_prefix_for_db`).
    """
    if settings.mode == "cluster":
        return settings
    parts = urlsplit(settings.url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"]
    if parts.scheme == "unix":
        query.append(("db", str(db)))
        url = parts._replace(query=urlencode(query)).geturl()
    else:
        url = parts._replace(path=f"/{db}", query=urlencode(query)).geturl()
    return dataclasses.replace(settings, url=url)
