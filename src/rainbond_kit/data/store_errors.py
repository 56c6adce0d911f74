"""Driver errors -> the project's HTTP errors: the one translation every layer uses.

pymongo and redis exceptions never reach a client: the repository, the auth stores, the
rate limiter, compat's ``RedisConnect`` and the API's safety net all call
:func:`http_error_for` (or the :func:`store_errors` block around it). The detail goes to the
log; the client gets a fixed message naming the store.

A duplicate key (also inside a bulk write) is a 409 naming the unique index's field(s), from
the server's ``keyPattern`` (or, when a server sends none, the index name in its message
matched against the declared indexes). The colliding values are added under ``duplicate``
only for fields the caller may read (``readable``: the resource's output fields), never for
others::

    {"code": 409, "message": "a document with the same sku, shop exists",
     "errors": {"sku": ["already exists"], "shop": ["already exists"]},
     "duplicate": {"sku": "A-1"}}

``remove_time`` in a unique index (``[("sku", 1), ("remove_time", 1)]``: live documents all
have none, so one live ``sku``, while soft-deleted ones never block re-creating it) is left out
of the named fields.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import bson.errors
import pymongo
import pymongo.errors
import redis.exceptions

from rainbond_kit.data.documents import to_jsonable
from rainbond_kit.data.fields import REMOVE_TIME
from rainbond_kit.errors import (
    BadRequestError,
    ConflictError,
    HTTPError,
    ServiceUnavailableError,
    http_error,
)

__all__ = [
    "STORE_ERRORS",
    "TOO_LARGE_MESSAGE",
    "TRANSACTIONS_NEED_A_REPLICA_SET",
    "brief",
    "duplicate_key_error",
    "http_error_for",
    "server_message",
    "store_errors",
]

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
TOO_LARGE_MESSAGE = "the document is larger than MongoDB stores (16 MiB of BSON)"
#: BSONObjectTooLarge and the older "object to insert too large" codes: a write error of a
#: batch's operation (a single write is refused by pymongo itself: ``DocumentTooLarge``)
_TOO_LARGE_CODES = frozenset({10334, 17419, 17420})
QUERY_TIMEOUT_MESSAGE = (
    "the query took longer than the server-side time limit (MONGODB_QUERY_TIMEOUT_MS); "
    "narrow the filter or page with $after"
)
TRANSACTIONS_NEED_A_REPLICA_SET = "mongodb transactions need a replica set"
TRANSACTION_CONFLICT = "the write conflicted with a concurrent transaction: retry"
_DUPLICATE_KEY = 11000
_ILLEGAL_OPERATION = 20  # "Transaction numbers are only allowed on a replica set member"
#: pymongo's ``with_transaction`` retries errors with these labels: they must reach it
_RETRIED_LABELS = ("TransientTransactionError", "UnknownTransactionCommitResult")
_INDEX_NAME = re.compile(r" index: (\S+) dup key")


def _index_keys(details: Mapping[str, Any], indexes: Sequence[pymongo.IndexModel]) -> list[str]:
    """The fields of the unique index a duplicate-key error names."""
    pattern = details.get("keyPattern")
    if isinstance(pattern, Mapping) and pattern:
        return [str(k) for k in pattern]
    match = _INDEX_NAME.search(str(details.get("errmsg", "")))
    for index in indexes:
        if match is not None and index.document.get("name") == match.group(1):
            return [str(k) for k in index.document["key"]]
    return []


def duplicate_key_error(
    details: Mapping[str, Any] | None,
    *,
    indexes: Sequence[pymongo.IndexModel] = (),
    readable: Collection[str] | None = None,
    names: Mapping[str, str] | None = None,
) -> HTTPError:
    """The 409 of a duplicate key (see the module docstring).

    :param details: the server's error document (``keyPattern``, ``keyValue``, ``errmsg``).
    :param indexes: the declared indexes, to read an index name when there is no pattern.
    :param readable: fields whose colliding value the caller may see (``None``: none).
    :param names: stored field -> the name clients use (a schema's ``data_key``).
    """
    details = details or {}
    names = names or {}
    keys = _index_keys(details, indexes)
    # (sku, remove_time): one live sku, any number of deleted ones; the marker is no client field
    fields = [k for k in keys if k != REMOVE_TIME] or keys
    if not fields:
        return ConflictError(DUPLICATE_KEY_MESSAGE)
    values = details.get("keyValue")
    shown = {
        names.get(f, f): to_jsonable(values[f])
        for f in fields
        if readable is not None and f in readable and isinstance(values, Mapping) and f in values
    }
    public = [names.get(f, f) for f in fields]
    return ConflictError(
        f"a document with the same {', '.join(public)} exists",
        errors={f: ["already exists"] for f in public},
        extra={"duplicate": shown} if shown else None,
    )


def _retried(exc: BaseException) -> bool:
    """Whether pymongo's ``with_transaction`` retries ``exc``."""
    return isinstance(exc, pymongo.errors.PyMongoError) and any(
        exc.has_error_label(label) for label in _RETRIED_LABELS
    )


def _duplicate_details(exc: BaseException) -> Mapping[str, Any] | None:
    """The duplicate-key error document of ``exc``, or ``None`` when it is not one."""
    if isinstance(exc, pymongo.errors.DuplicateKeyError):
        return exc.details or {}
    if isinstance(exc, pymongo.errors.BulkWriteError):
        errors = (exc.details or {}).get("writeErrors") or []
        first: Mapping[str, Any] = errors[0] if errors else {}
        return first if first.get("code") == _DUPLICATE_KEY else None
    return None


def server_message(exc: BaseException) -> str:
    """The server's message of a driver error on one line, at most 300 characters; never its
    details (a write error's carry the client's whole document, a duplicate key's the values)."""
    details = getattr(exc, "details", None)
    message = details.get("errmsg") if isinstance(details, Mapping) else None
    return " ".join(str(message or exc).split())[:300]


def brief(exc: BaseException) -> str:
    """A driver error for a log line: its type, code and :func:`server_message`."""
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__}{f' (code {code})' if code is not None else ''}: {server_message(exc)}"


def http_error_for(
    exc: BaseException,
    *,
    store: str | None = None,
    unavailable: str | None = None,
    indexes: Sequence[pymongo.IndexModel] = (),
    readable: Collection[str] | None = None,
    names: Mapping[str, str] | None = None,
) -> HTTPError | None:
    """The HTTP error a driver error means, or ``None`` when ``exc`` is not a driver error.

    Duplicate key: 409 naming the field(s) (:func:`duplicate_key_error`; ``indexes``,
    ``readable`` and ``names`` are passed to it). A transaction on a standalone server: 503
    ``mongodb transactions need a replica set``. A query MongoDB stopped at its time limit
    (``maxTimeMS``, code 50): 503 naming the limit. A query MongoDB rejects: 400. Anything else
    from a store (unreachable, timed out, refused credentials, a Redis error): 503
    ``"<store> is unavailable"``, where ``store`` defaults to ``mongodb`` or ``redis``;
    ``unavailable`` replaces that message (compat keeps the original package's wording).
    """
    if _retried(exc):  # retries ended (or a transaction outside with_transaction)
        log.info("transaction conflict: %s", brief(exc))
        return ConflictError(TRANSACTION_CONFLICT)
    details = _duplicate_details(exc)
    if details is not None:
        log.info("duplicate key: %s", brief(exc))
        return duplicate_key_error(details, indexes=indexes, readable=readable, names=names)
    if (
        isinstance(exc, pymongo.errors.OperationFailure)
        and exc.code == _ILLEGAL_OPERATION
        and "transaction" in str(exc).lower()
    ):
        log.warning("transaction refused: %s", brief(exc))
        return ServiceUnavailableError(TRANSACTIONS_NEED_A_REPLICA_SET)
    if isinstance(exc, pymongo.errors.ExecutionTimeout) or (
        isinstance(exc, pymongo.errors.OperationFailure) and exc.code == _EXECUTION_TIMEOUT
    ):
        log.warning("query stopped at its time limit: %s", brief(exc))
        return ServiceUnavailableError(QUERY_TIMEOUT_MESSAGE)
    if isinstance(exc, pymongo.errors.OperationFailure) and exc.code in _TOO_LARGE_CODES:
        log.info("document too large: %s", brief(exc))
        return http_error(422, TOO_LARGE_MESSAGE)
    if isinstance(exc, pymongo.errors.OperationFailure) and exc.code not in _AUTH_CODES:
        log.warning("query rejected: %s", brief(exc))
        return BadRequestError(REJECTED_QUERY_MESSAGE)
    if isinstance(exc, pymongo.errors.PyMongoError):
        default = "mongodb"
    elif isinstance(exc, redis.exceptions.RedisError):
        default = "redis"
    else:
        return None
    name = store or default
    log.warning("%s unavailable: %s", name, brief(exc))
    return ServiceUnavailableError(unavailable or f"{name} is unavailable")


@contextlib.contextmanager
def store_errors(
    store: str | None = None,
    *,
    indexes: Sequence[pymongo.IndexModel] = (),
    readable: Collection[str] | None = None,
    names: Mapping[str, str] | None = None,
    retried_pass: bool = True,
) -> Iterator[None]:
    """Raise the translated HTTP error for a driver error inside the block.

    Text with a lone surrogate (``"\\ud800"`` in JSON) cannot become BSON: a 400 too. A value
    BSON cannot hold (an integer beyond 64 bits, a date outside years 1-9999 once in UTC) is
    a 422, as is a document over MongoDB's 16 MiB once encoded (a JSON body under the size
    limit can grow past it: a long array of small numbers). Any other document BSON refuses (a
    key with a NUL character from a form, a value of no BSON type) is a 400. An error pymongo's ``with_transaction`` retries (``TransientTransactionError``)
    passes through unchanged (unless ``retried_pass=False``): the transaction's own block
    translates it when the retries end.
    """
    try:
        yield
    except UnicodeEncodeError:
        raise BadRequestError("text must be valid Unicode (no lone surrogates)") from None
    except OverflowError:
        raise http_error(
            422, "a value is out of range (64-bit integers, dates in years 1-9999 UTC)"
        ) from None
    except pymongo.errors.DocumentTooLarge:
        raise http_error(422, TOO_LARGE_MESSAGE) from None
    except bson.errors.InvalidDocument:  # what reached the store without the JSON body loader
        raise BadRequestError(
            "the document cannot be stored: a key holds a NUL character or a value has no BSON form"
        ) from None
    except STORE_ERRORS as exc:
        if _retried(exc) and retried_pass:
            raise
        error = http_error_for(exc, store=store, indexes=indexes, readable=readable, names=names)
        assert error is not None  # every STORE_ERRORS subclass translates
        raise error from None
