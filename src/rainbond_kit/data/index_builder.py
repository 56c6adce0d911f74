"""The background index builder: declared indexes built off the request path, with backoff.

One builder per app and process. :meth:`IndexBuilder.start` is cheap and idempotent: the
app calls it on every request and only the first one in a process starts a daemon thread,
which returns at once, so a gunicorn master that imports the app (``--preload``) never
connects and each worker builds after its own fork. The thread walks the pending indexes of
existing collections (one that does not exist yet is looked at again later, once a write
has created it);
while MongoDB is unreachable it waits (0.5 s, doubling up to 30 s) and tries again; it ends
when nothing is pending. A conflict or refusal is logged once, as one error line naming the
index and the collection, and recorded on the :class:`~rainbond_kit.data.indexes.IndexBoard`;
it is not retried (``rainbond-kit indexes`` reports and retries it once fixed).
:meth:`IndexBuilder.stop` ends the thread (app shutdown, test overrides).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pymongo.errors
from pymongo.database import Database

from rainbond_kit.data.indexes import IndexBoard, StoreDown, build_index

__all__ = ["IndexBuilder", "build_pending"]

log = logging.getLogger("rainbond_kit.indexes")

#: first and longest wait between attempts while MongoDB is down (seconds)
FIRST_DELAY = 0.5
MAX_DELAY = 30.0


def build_pending(
    board: IndexBoard,
    database: Database[Any],
    stopping: threading.Event | None = None,
    *,
    existing_only: bool = False,
) -> int:
    """One pass over the pending indexes: build each, record and log the outcome; return how
    many were left for later.

    :param stopping: when set, the pass ends before the next index.
    :param existing_only: leave the indexes of collections that do not exist yet pending (the
        background builder: a request's insert may be creating the collection right now, and
        SecantusDB stalls when ``createIndexes`` creates the same collection at that moment).
    :raises StoreDown: MongoDB is unreachable (the rest stay pending).
    """
    existing: set[str] | None = None
    if existing_only:
        try:
            existing = set(database.list_collection_names())
        except pymongo.errors.ConnectionFailure as exc:
            raise StoreDown(type(exc).__name__) from exc
    deferred = 0
    for entry, model in board.pending():
        if stopping is not None and stopping.is_set():
            return deferred
        if existing is not None and entry.collection not in existing:
            deferred += 1
            continue
        status, detail = build_index(database[entry.collection], model)
        if status == "built":
            log.info("%s built", entry.describe())
        else:
            log.error("%s not built (%s): %s", entry.describe(), status, detail)
        board.record(entry.collection, entry.name, status, detail)
    return deferred


class IndexBuilder:
    """Builds an :class:`IndexBoard`'s pending indexes in a daemon thread.

    :param database: returns the database to build in (resolved on each attempt, so a test
        override's client is used).
    """

    def __init__(
        self,
        board: IndexBoard,
        database: Callable[[], Database[Any]],
        *,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
    ) -> None:
        self.board = board
        self._database = database
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._stopping = threading.Event()

    @property
    def running(self) -> bool:
        """Whether this process's builder thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive() and self._pid == os.getpid()

    def start(self) -> None:
        """Start the thread if indexes are pending and none runs in this process; never blocks."""
        if self.running or not self.board.pending():
            return
        with self._lock:
            if self.running:
                return
            if self._pid != os.getpid():  # a forked child: the parent's thread did not follow
                self._pid = os.getpid()
                self._stopping = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stopping,), name="rainbond-kit-indexes", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the thread and wait for it (at most ``timeout`` s); :meth:`start` may follow."""
        with self._lock:
            thread, stopping = self._thread, self._stopping
            stopping.set()
            self._stopping = threading.Event()
            self._thread = None
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout)

    def build_now(self, timeout: float) -> bool:
        """Stop the thread and build every pending index in the caller's thread (collections
        created as needed), retrying while MongoDB is down, for at most ``timeout`` seconds;
        whether none is pending. For callers that write nothing meanwhile (tests, scripts)."""
        self.stop()
        deadline, delay = time.monotonic() + timeout, self._first_delay
        while self.board.pending():
            try:
                build_pending(self.board, self._database())
            except StoreDown:
                if time.monotonic() + delay > deadline:
                    return False
                time.sleep(delay)
                delay = min(delay * 2, self._max_delay)
        return True

    def _run(self, stopping: threading.Event) -> None:
        delay = self._first_delay
        warned = False
        while not stopping.is_set() and self.board.pending():
            try:
                if build_pending(self.board, self._database(), stopping, existing_only=True):
                    stopping.wait(delay)  # collections not created yet: look again later
                    delay = min(delay * 2, self._max_delay)
            except StoreDown as exc:
                if not warned:
                    log.warning(
                        "indexes not built yet: mongodb unavailable (%s); retrying in the background",
                        exc,
                    )
                    warned = True
                stopping.wait(delay)
                delay = min(delay * 2, self._max_delay)
            except Exception:  # never let the thread die silently; try again later
                log.exception("index builder failed; retrying")
                stopping.wait(self._max_delay)
