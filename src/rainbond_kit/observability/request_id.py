"""Request ids: one per request, from a trusted proxy's ``X-Request-ID`` or generated.

The id is computed on first use and kept in ``flask.g``, so every consumer (the log filter,
the error envelope, the response header) sees the same value whatever order the hooks run in.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid

from flask import Flask, Response, current_app, g, has_request_context, request

from rainbond_kit.ratelimit import trusted_proxies

__all__ = ["HEADER", "RequestContextFilter", "current_request_id", "install_request_id"]

HEADER = "X-Request-ID"
_G_KEY = "_rainbond_request_id"
#: what a proxy may send: printable, bounded (it lands in every log line)
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:@+=/-]{1,128}$")


def current_request_id() -> str:
    """The id of the current request (generated on first use when the caller sent none).

    ``X-Request-ID`` is taken from the request only when ``RAINBOND_TRUSTED_PROXIES`` says a
    proxy is in front (the same rule as ``X-Forwarded-For``) and it looks like an id.
    """
    found: str | None = g.get(_G_KEY)
    if found is None:
        sent = request.headers.get(HEADER, "").strip()
        if sent and _ACCEPTED.match(sent) and trusted_proxies(current_app) > 0:
            found = sent
        else:
            found = uuid.uuid4().hex
        setattr(g, _G_KEY, found)
    return found


def install_request_id(app: Flask) -> None:
    """Return the request id in every response's ``X-Request-ID`` header."""

    @app.after_request
    def rainbond_request_id_header(response: Response) -> Response:
        response.headers[HEADER] = current_request_id()
        return response


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` (and ``trace_id``/``span_id`` when a span is active) to log records.

    Outside a request the record is left as it is. OpenTelemetry is consulted only when
    something has already imported it: the filter never loads it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = current_request_id()
        otel_trace = sys.modules.get("opentelemetry.trace")
        if otel_trace is not None:
            context = otel_trace.get_current_span().get_span_context()
            if context.is_valid:
                record.trace_id = format(context.trace_id, "032x")
                record.span_id = format(context.span_id, "016x")
        return True
