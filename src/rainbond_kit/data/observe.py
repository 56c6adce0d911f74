"""Timing the kit's own MongoDB operations, for metrics, without pymongo's command monitoring.

A :class:`StoreObserver` given to a repository hears of every store operation the repository
makes (its name, the collection, the seconds it took, whether the driver failed it). The
repository wraps each operation in :func:`observed`: two ``perf_counter`` calls and one call
of the observer, about a microsecond. pymongo's command monitoring gives the same per command
but costs 15-20 microseconds a command in events (``docs/performance.md``, metrics cost), so
the observer is the default source of the MongoDB metrics and command monitoring is opt-in.

The data layer defines the hook only; :mod:`rainbond_kit.observability` supplies the observer
that feeds Prometheus, so the data layer imports nothing of it.
"""

from __future__ import annotations

import contextlib
from time import perf_counter
from types import TracebackType
from typing import Protocol

import pymongo.errors

__all__ = ["StoreObserver", "observed"]


class StoreObserver(Protocol):
    """Called once per store operation, on the thread that ran it."""

    def __call__(self, operation: str, collection: str, seconds: float, failed: bool) -> None:
        """:param failed: the driver raised (a store error, not a refusal of the kit's own)."""


class _Observed:
    """The block ``inner`` (the error translation), timed and reported to ``observer``."""

    __slots__ = ("_collection", "_inner", "_observer", "_operation", "_start")

    def __init__(
        self,
        inner: contextlib.AbstractContextManager[None],
        observer: StoreObserver,
        operation: str,
        collection: str,
    ) -> None:
        self._inner = inner
        self._observer = observer
        self._operation = operation
        self._collection = collection
        self._start = 0.0

    def __enter__(self) -> None:
        self._inner.__enter__()
        self._start = perf_counter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        failed = exc_type is not None and issubclass(exc_type, pymongo.errors.PyMongoError)
        self._observer(self._operation, self._collection, perf_counter() - self._start, failed)
        return self._inner.__exit__(exc_type, exc, traceback)


def observed(
    inner: contextlib.AbstractContextManager[None],
    observer: StoreObserver | None,
    operation: str,
    collection: str,
) -> contextlib.AbstractContextManager[None]:
    """``inner`` timed as ``operation`` on ``collection`` when there is an ``observer``.

    The duration covers the operation's round trips (a ``find`` with its ``getMore`` batches,
    a list's counts), not the work after the block.
    """
    if observer is None:
        return inner
    return _Observed(inner, observer, operation, collection)
