"""Driver errors -> the project's HTTP errors: the one translation every layer uses.

pymongo and redis exceptions never reach a client: the repository, the auth stores, the
rate limiter, compat's ``RedisConnect`` and the API's safety net all call
:func:`http_error_for` (or the :func:`store_errors` block around it). The detail goes to the
log; the client gets a fixed message naming the store.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pymongo.errors
import redis.exceptions

from rainbond_kit.errors import (
    BadRequestError,
    ConflictError,
    HTTPError,
    ServiceUnavailableError,
    http_error,
)

__all__ = ["STORE_ERRORS", "http_error_for", "store_errors"]

log = logging.getLogger("rainbond_kit.stores")

#: The driver exception roots; anything under them is translated.
STORE_ERRORS: tuple[type[Exception], ...] = (
    pymongo.errors.PyMongoError,
    redis.exceptions.RedisError,
)

_AUTH_CODES = {13, 18}  # Unauthorized, AuthenticationFailed: a deployment problem, not the client's
_EXECUTION_TIMEOUT = 50  # MaxTimeMSExpired: the server stopped the query at its maxTimeMS
DUPLICATE_KEY_MESSAGE = "a document with the same unique key exists"
REJECTED_QUERY_MESSAGE = "the database rejected the query"
QUERY_TIMEOUT_MESSAGE = (
    "the query took longer than the server-side time limit (MONGODB_QUERY_TIMEOUT_MS); "
    "narrow the filter or page with $after"
)


def http_error_for(
    exc: BaseException, *, store: str | None = None, unavailable: str | None = None
) -> HTTPError | None:
    """The HTTP error a driver error means, or ``None`` when ``exc`` is not a driver error.

    Duplicate key: 409. A query MongoDB stopped at its time limit (``maxTimeMS``, code 50):
    503 naming the limit. A query MongoDB rejects: 400. Anything else from a store
    (unreachable, timed out, refused credentials, a Redis error): 503
    ``"<store> is unavailable"``, where
    ``store`` defaults to ``mongodb`` or ``redis``; ``unavailable`` replaces that message
    (compat keeps the original package's wording).
    """
    if isinstance(exc, pymongo.errors.DuplicateKeyError):
        log.info("duplicate key: %s", exc.details)
        return ConflictError(DUPLICATE_KEY_MESSAGE)
    if isinstance(exc, pymongo.errors.ExecutionTimeout) or (
        isinstance(exc, pymongo.errors.OperationFailure) and exc.code == _EXECUTION_TIMEOUT
    ):
        log.warning("query stopped at its time limit: %s", exc)
        return ServiceUnavailableError(QUERY_TIMEOUT_MESSAGE)
    if isinstance(exc, pymongo.errors.OperationFailure) and exc.code not in _AUTH_CODES:
        log.warning("query rejected: %s", exc)
        return BadRequestError(REJECTED_QUERY_MESSAGE)
    if isinstance(exc, pymongo.errors.PyMongoError):
        default = "mongodb"
    elif isinstance(exc, redis.exceptions.RedisError):
        default = "redis"
    else:
        return None
    name = store or default
    log.warning("%s unavailable: %s: %s", name, type(exc).__name__, exc)
    return ServiceUnavailableError(unavailable or f"{name} is unavailable")


@contextlib.contextmanager
def store_errors(store: str | None = None) -> Iterator[None]:
    """Raise the translated HTTP error for a driver error inside the block.

    Text with a lone surrogate (``"\\ud800"`` in JSON) cannot become BSON: a 400 too. A value
    BSON cannot hold (an integer beyond 64 bits, a date outside years 1-9999 once in UTC) is
    a 422.
    """
    try:
        yield
    except UnicodeEncodeError:
        raise BadRequestError("text must be valid Unicode (no lone surrogates)") from None
    except OverflowError:
        raise http_error(
            422, "a value is out of range (64-bit integers, dates in years 1-9999 UTC)"
        ) from None
    except STORE_ERRORS as exc:
        error = http_error_for(exc, store=store)
        assert error is not None  # every STORE_ERRORS subclass translates
        raise error from None
