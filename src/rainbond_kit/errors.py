"""The project's exceptions: one root, and HTTP errors that are also werkzeug exceptions.

Every HTTP error carries what the envelope needs: a ``message``, optional field-level
``errors``, extra top-level keys (``extra``) and response ``headers``. The envelope
handler (:mod:`rainbond_kit.envelope`) reads them from ``exc.data``, the same attribute
webargs' ``abort`` fills, so both paths render alike.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NoReturn

from werkzeug import exceptions as wz

__all__ = [
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenError",
    "HTTPError",
    "NotFoundError",
    "PreconditionFailedError",
    "RainbondError",
    "ServiceUnavailableError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "abort",
    "http_error",
]


class RainbondError(Exception):
    """Root of every exception rainbond-kit raises."""


class ConfigurationError(RainbondError):
    """A setting is missing or malformed; raised at start-up, naming the variable."""


class HTTPError(RainbondError, wz.HTTPException):
    """Base of the project's HTTP errors; renders as the JSON envelope."""

    code: int | None = 500

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Any = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(description=message)
        self.data: dict[str, Any] = {}
        if message is not None:
            self.data["message"] = message
        if errors is not None:
            self.data["errors"] = errors
        if headers:
            self.data["headers"] = dict(headers)
        if extra:
            self.data["extra"] = dict(extra)


class BadRequestError(HTTPError, wz.BadRequest):
    """400: the request is malformed (bad query parameter, bad id, ...)."""

    code = 400


class UnauthorizedError(HTTPError, wz.Unauthorized):
    """401: no valid credentials."""

    code = 401


class ForbiddenError(HTTPError, wz.Forbidden):
    """403: authenticated, but not allowed."""

    code = 403


class NotFoundError(HTTPError, wz.NotFound):
    """404: no such resource (or it is soft-deleted)."""

    code = 404


class ConflictError(HTTPError, wz.Conflict):
    """409: the write conflicts with existing data (duplicate key)."""

    code = 409


class PreconditionFailedError(HTTPError, wz.PreconditionFailed):
    """412: ``If-Match`` did not match the current ``ETag``."""

    code = 412


class TooManyRequestsError(HTTPError, wz.TooManyRequests):
    """429: the client's rate limit is spent."""

    code = 429


class ServiceUnavailableError(HTTPError, wz.ServiceUnavailable):
    """503: a backing store (MongoDB, Redis) cannot be reached."""

    code = 503


_BY_CODE: dict[int, type[HTTPError]] = {
    cls.code: cls
    for cls in (
        BadRequestError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        ConflictError,
        PreconditionFailedError,
        TooManyRequestsError,
        ServiceUnavailableError,
    )
}


def http_error(
    status: int,
    message: str | None = None,
    *,
    errors: Any = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> HTTPError:
    """Build (not raise) the HTTP error for ``status``.

    Any status from 100 to 599 works: codes without a dedicated class get a generic
    :class:`HTTPError` that still subclasses the matching werkzeug exception when one exists.
    """
    if not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code, got {status}")
    return _class_for(status)(message, errors=errors, headers=headers, extra=extra)


@functools.cache
def _class_for(status: int) -> type[HTTPError]:
    cls = _BY_CODE.get(status)
    if cls is not None:
        return cls
    base = wz.default_exceptions.get(status)
    bases: tuple[type, ...] = (HTTPError, base) if base else (HTTPError,)
    return type(f"HTTPError{status}", bases, {"code": status})


def abort(
    status: int,
    message: str | None = None,
    *,
    errors: Any = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> NoReturn:
    """Stop the request with the JSON envelope; keyword arguments become top-level keys.

    >>> abort(409, "title already taken", field="title")  # doctest: +SKIP
    """
    raise http_error(status, message, errors=errors, headers=headers, extra=extra)
