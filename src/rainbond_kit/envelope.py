"""The JSON error envelope every error response uses.

Shape (the seed's keys plus ``status`` and, for validation failures, ``errors``)::

    {"code": 404, "status": "Not Found", "message": "...",
     "server_time": 1764085110123, "host_name": "books-5d9c", "host_ip": "10.42.0.17"}

``server_time`` is the server's clock as **integer milliseconds since the Unix epoch (UTC)**,
the same unit as the documents' ``creation_time``/``update_time``. (rainbond-python sent
local wall-clock digits ``YYYYMMDDhhmmss000``, which is not a timestamp; see the README's
migration notes.)
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Response, current_app, has_request_context, json
from werkzeug.exceptions import HTTPException, InternalServerError

from rainbond_kit import platform_env
from rainbond_kit.i18n import DocText, request_language, translate, translate_errors
from rainbond_kit.observability.request_id import current_request_id

__all__ = [
    "EnvelopeSchema",
    "build_envelope",
    "error_body",
    "host_identity",
    "render_error",
    "server_time",
]

log = logging.getLogger("rainbond_kit.errors")

_RESERVED = frozenset(
    {"code", "status", "message", "errors", "server_time", "host_name", "host_ip", "request_id"}
)
#: ``app.extensions`` key of the metrics' error observer (set when metrics are on)
_ERROR_OBSERVER = "rainbond_kit_error_observer"


class EnvelopeSchema(ma.Schema):
    """The error envelope, as documented in the OpenAPI document (never used to dump)."""

    code = ma.fields.Integer(required=True, metadata={"description": DocText("HTTP status code")})
    status = ma.fields.String(required=True, metadata={"description": DocText("HTTP status name")})
    message = ma.fields.String(required=True, metadata={"description": DocText("What went wrong")})
    errors = ma.fields.Dict(
        metadata={
            "description": DocText("Field-level details, by location then field (validation only)")
        }
    )
    server_time = ma.fields.Integer(
        required=True,
        metadata={"description": DocText("Server clock, milliseconds since the Unix epoch")},
    )
    host_name = ma.fields.String(
        required=True, metadata={"description": DocText("Serving host name")}
    )
    host_ip = ma.fields.String(
        required=True, metadata={"description": DocText("Serving host address")}
    )
    request_id = ma.fields.String(
        metadata={
            "description": DocText(
                "The request's id (also the X-Request-ID header and in its logs)"
            )
        }
    )

    class Meta:
        unknown = ma.INCLUDE  # endpoints may add documented top-level keys


def server_time() -> int:
    """Milliseconds since the Unix epoch, as an integer."""
    return time.time_ns() // 1_000_000


@functools.cache
def host_identity() -> tuple[str, str]:
    """Return ``(host_name, host_ip)``; resolved once, never raises.

    The name is Rainbond's ``_POD_NAME`` (``POD_NAME`` before Rainbond 6), else the host
    name; Rainbond injects ``POD_IP``; elsewhere the host name is resolved once and an
    unresolvable name gives ``""`` rather than an error inside an error handler.
    """
    name = platform_env.host_name()
    ip = os.environ.get("POD_IP", "").strip()
    if not ip and name:
        try:
            ip = socket.gethostbyname(name)
        except OSError:
            ip = ""
    return name, ip


def build_envelope(
    code: int,
    message: str,
    *,
    status: str | None = None,
    errors: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the envelope dict; ``extra`` keys are added at top level (never replacing ours)."""
    host_name, host_ip = host_identity()
    body: dict[str, Any] = {
        "code": code,
        "status": status or _status_name(code),
        "message": message,
        "server_time": server_time(),
        "host_name": host_name,
        "host_ip": host_ip,
    }
    if errors is not None:
        body["errors"] = errors
    if has_request_context():
        body["request_id"] = current_request_id()
    if extra:
        body.update({k: v for k, v in extra.items() if k not in _RESERVED})
    return body


def _status_name(code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _message_for(error: HTTPException, data: Mapping[str, Any]) -> str:
    code = error.code or 500
    overrides: Mapping[int, str] = current_app.config.get("RAINBOND_ERROR_MESSAGES") or {}
    if "message" in data and data["message"] is not None:
        return str(data["message"])
    if code in overrides:
        return overrides[code]
    if code >= 500:
        return _status_name(code)  # never the description of an unexpected error
    return error.description or _status_name(code)


def error_body(error: HTTPException, language: str | None = None) -> dict[str, Any]:
    """The envelope of ``error`` as a dict, in ``language`` (default: the request's); also
    the per-item error of a batch."""
    data: Mapping[str, Any] = getattr(error, "data", None) or {}
    language = language or request_language()
    return build_envelope(
        error.code or 500,
        translate(_message_for(error, data), language),
        errors=translate_errors(data.get("errors", data.get("messages")), language),
        extra=data.get("extra"),
    )


def render_error(error: HTTPException) -> Response:
    """Render any werkzeug HTTP exception as the envelope (the ``Api`` error handler).

    The one place messages are localized: ``message`` and field-level ``errors`` in the
    request's language (:func:`~rainbond_kit.i18n.request_language`); everything else is
    the same in every language.
    """
    if isinstance(error, InternalServerError) and error.original_exception is not None:
        log.error("unhandled error", exc_info=error.original_exception)
    observer = current_app.extensions.get(_ERROR_OBSERVER)
    if observer is not None:
        observer(error)  # auth failures, rate-limit refusals, Redis errors
    code = error.code or 500
    data: Mapping[str, Any] = getattr(error, "data", None) or {}
    language = request_language()
    body = error_body(error, language)
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=code, mimetype="application/json"
    )
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    # Keep the exception's own headers (``Allow`` on 405, ``WWW-Authenticate`` ...).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response
