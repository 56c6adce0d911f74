"""CORS, on by default and safe: ``*`` without credentials unless origins are listed.

flask-cors reflects the request's ``Origin`` when credentials are allowed, so
``origins="*"`` together with credentials would let any site read authenticated
responses. That combination is refused at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask
from flask_cors import CORS

from rainbond_kit.errors import ConfigurationError

__all__ = ["configure_cors", "parse_origins"]


def parse_origins(value: str | Iterable[str]) -> list[str]:
    """Accept a comma-separated string or a list; strip blanks."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


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
        origins=origins or ["*"],
        supports_credentials=credentials,
        send_wildcard=not credentials,  # '*' literally, never the echoed Origin
        expose_headers=[
            "Location",
            "ETag",
            "Link",
            "X-Total-Count",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
    )
