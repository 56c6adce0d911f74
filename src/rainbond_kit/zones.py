"""The time zone calendar days are read in: ``RAINBOND_TIMEZONE``, else ``TZ``, else UTC.

A list's ``$start_date=2024-03-01`` means that day in this zone (midnight to midnight there), as
does ``created[eq]=2024-03-01`` on a date field and compat's ``handle_date``. The value is an
IANA name (``Asia/Shanghai``, ``UTC``; Python's :mod:`zoneinfo`, with the ``tzdata`` package
as the database on images without ``/usr/share/zoneinfo``). ``RAINBOND_TIMEZONE`` is a Flask
config key whose default is the environment variable of the same name; ``TZ`` (what a
container usually sets) is read when neither is given. Validated once by :func:`init_timezone`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app, has_app_context

from rainbond_kit.errors import ConfigurationError

__all__ = ["TIMEZONE_KEY", "current_zone", "init_timezone", "zone_from"]

TIMEZONE_KEY = "RAINBOND_TIMEZONE"
_EXTENSION_KEY = "rainbond_kit.timezone"


def _zone(name: str, raw: str) -> dt.tzinfo:
    key = raw.strip().removeprefix(":")  # TZ=:Asia/Shanghai is glibc's spelling of a file name
    try:
        if not key or key.startswith("/") or ".." in key:
            raise ValueError(key)
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"{name} must be an IANA time zone name such as Asia/Shanghai or UTC, got {raw!r}"
        ) from None


def zone_from(configured: object, environ: Mapping[str, str]) -> dt.tzinfo:
    """The zone named by ``configured`` (the config key), else ``RAINBOND_TIMEZONE``, else
    ``TZ`` in ``environ``; UTC when none is set.

    :raises ConfigurationError: the first value set is not a time zone name (naming it).
    """
    if configured is not None and configured != "":
        if isinstance(configured, dt.tzinfo):
            return configured
        if not isinstance(configured, str):
            raise ConfigurationError(
                f"{TIMEZONE_KEY} must be an IANA time zone name, got {configured!r}"
            )
        return _zone(TIMEZONE_KEY, configured)
    for name in (TIMEZONE_KEY, "TZ"):
        raw = environ.get(name, "")
        if raw.strip():
            return _zone(name, raw)
    return dt.timezone.utc


def init_timezone(app: Flask, environ: Mapping[str, str] | None = None) -> dt.tzinfo:
    """Validate the app's zone (``app.config`` beats the environment) and keep it.

    :raises ConfigurationError: the value is not a time zone name.
    """
    zone = zone_from(app.config.get(TIMEZONE_KEY), os.environ if environ is None else environ)
    app.extensions[_EXTENSION_KEY] = zone
    return zone


def current_zone() -> dt.tzinfo:
    """The current app's validated zone (UTC outside an initialised app)."""
    if has_app_context():
        zone = current_app.extensions.get(_EXTENSION_KEY)
        if isinstance(zone, dt.tzinfo):
            return zone
    return dt.timezone.utc
