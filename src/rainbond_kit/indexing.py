"""Declared indexes per app: declaring them, starting their builder, reading their state.

Resources declare their ``INDEXES`` when their blueprint is registered on an app
(:func:`declare_indexes`; no I/O). The end of every request of a process calls
:func:`start_index_builder`, which starts the app's background builder once per process and
returns at once (see :mod:`rainbond_kit.data.index_builder`): a gunicorn master importing the
app with ``--preload`` opens no connection; each worker builds after its fork. Probes and
routes never wait for indexes; :func:`index_summary` is what ``/readyz`` reports (no I/O).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pymongo
from flask import Flask

from rainbond_kit.data.indexes import IndexBoard
from rainbond_kit.extension_state import get_state

__all__ = [
    "declare_indexes",
    "index_board",
    "index_summary",
    "start_index_builder",
    "wait_for_indexes",
]


def declare_indexes(
    app: Flask,
    collection: str,
    models: Iterable[pymongo.IndexModel],
    *,
    sortable: frozenset[str] = frozenset(),
    stored: Mapping[str, str] | None = None,
) -> None:
    """Add ``collection``'s indexes (and sortable fields, for ``rainbond-kit indexes --check``)
    to ``app``'s board; they are built in the background after the process's first request."""
    get_state(app).indexes.board.declare(collection, models, sortable=sortable, stored=stored)


def start_index_builder(_: BaseException | None = None) -> None:
    """``teardown_request`` hook: start the app's index builder in this process (never blocks).

    After the request rather than before it: the first request's own write has created its
    collection by then (SecantusDB, the development server, stalls when a collection is
    created implicitly by an insert while ``createIndexes`` creates it).
    """
    get_state().indexes.start()


def index_board(app: Flask | None = None) -> IndexBoard:
    """The declared indexes of ``app`` (default: the current app) and their state."""
    return get_state(app).indexes.board


def index_summary(app: Flask | None = None) -> dict[str, int]:
    """How many declared indexes are ``built``/``pending``/``conflict``/``error`` (no I/O)."""
    return index_board(app).counts()


def wait_for_indexes(app: Flask, timeout: float = 60.0) -> bool:
    """Build ``app``'s pending indexes now, in this thread (collections created as needed),
    waiting for MongoDB up to ``timeout`` seconds; whether none is left pending. For tests and
    scripts that need a unique index before their first write."""
    return get_state(app).indexes.build_now(timeout)
