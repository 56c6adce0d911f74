"""CORS, on by default and safe: ``*`` without credentials unless origins are listed.

flask-cors reflects the request's ``Origin`` when credentials are allowed, so
``origins="*"`` together with credentials would let any site read authenticated
responses. That combination is refused at start-up.

flask-cors also treats any origin string that looks like a regex as one: ``https://*.a.com``
would match ``https://xa.com.evil.net``. Origins are therefore parsed here, once, into
exact strings or anchored patterns that mean what a user writes: ``scheme://host[:port]``,
where the host may start with ``*.`` for "any subdomain" (one or more labels). Anything
else is a :class:`ConfigurationError` at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Flask
from flask_cors import CORS

from rainbond_kit.errors import ConfigurationError

__all__ = ["configure_cors", "origin_matchers", "parse_origins"]

_ORIGIN = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<wild>\*\.)?"
    r"(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)"
    r"(?P<port>:[0-9]{1,5})?$"
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"


def parse_origins(value: str | Iterable[str]) -> list[str]:
    """Accept a comma-separated string or a list; strip blanks."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


def origin_matchers(origins: Iterable[str]) -> list[str | re.Pattern[str]]:
    """Turn configured origins into exact strings or anchored wildcard-subdomain patterns.

    >>> exact, wildcard = origin_matchers(["https://ui.example", "https://*.example.com"])
    >>> exact, bool(wildcard.match("https://a.example.com"))
    ('https://ui.example', True)
    >>> bool(wildcard.match("https://aexample.com.attacker.net"))
    False

    :raises ConfigurationError: an origin is not ``scheme://host[:port]`` (a ``*.`` prefix
        on the host allowed), e.g. it has a path, a regex or a wildcard elsewhere.
    """
    matchers: list[str | re.Pattern[str]] = []
    for origin in origins:
        if origin == "*":
            matchers.append("*")
            continue
        match = _ORIGIN.match(origin.lower())
        if match is None or (match["port"] and int(match["port"][1:]) > 65535):
            raise ConfigurationError(
                f"RAINBOND_CORS_ORIGINS: {origin!r} is not an origin; "
                "write scheme://host[:port], optionally with '*.' before the host "
                "for any subdomain (e.g. https://*.example.com)"
            )
        exact = f"{match['scheme']}://{match['host']}{match['port'] or ''}"
        if not match["wild"]:
            matchers.append(exact)
            continue
        matchers.append(
            re.compile(
                f"^{re.escape(match['scheme'])}://(?:{_LABEL}\\.)+"
                f"{re.escape(match['host'])}{re.escape(match['port'] or '')}$",
                re.IGNORECASE,
            )
        )
    return matchers


def configure_cors(app: Flask) -> None:
    """Install CORS from ``RAINBOND_CORS*`` config keys (see the README)."""
    if not app.config["RAINBOND_CORS"]:
        return
    origins = parse_origins(app.config["RAINBOND_CORS_ORIGINS"])
    credentials = bool(app.config["RAINBOND_CORS_CREDENTIALS"])
    if credentials and (not origins or "*" in origins):
        raise ConfigurationError(
            "RAINBOND_CORS_CREDENTIALS needs an explicit RAINBOND_CORS_ORIGINS list: "
            "'*' with credentials would reflect any Origin"
        )
    CORS(
        app,
        origins=origin_matchers(origins or ["*"]),
        supports_credentials=credentials,
        send_wildcard=not credentials,  # '*' literally, never the echoed Origin
        expose_headers=[
            "Location",
            "ETag",
            "Link",
            "X-Total-Count",
            "X-Total-Count-Strategy",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "X-Request-ID",
            "Idempotent-Replayed",
            "Retry-After",
        ],
    )
