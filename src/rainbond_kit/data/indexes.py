"""Declared indexes: their state, one build attempt, and which sorts they support.

:class:`IndexBoard` is the per-app record of every resource's declared ``INDEXES`` and where
each one stands (``pending``, ``built``, ``conflict``, ``error``); readers (``/readyz``,
metrics, the CLI) get a snapshot without any I/O. :func:`build_index` makes one
``createIndexes`` call for one index and classifies the outcome:

- ``built``: created, or an identical index already existed (``createIndexes`` of the same
  spec is a no-op, and joins a build another replica started instead of restarting it);
- ``conflict``: an index of the same name has other keys or options (codes 85/86), or
  existing documents violate a unique index (duplicate key, 11000);
- ``error``: MongoDB refused for another reason (permissions, an invalid spec);
- :class:`StoreDown` is raised when MongoDB cannot be reached: try again later.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import pymongo
import pymongo.errors
from pymongo.collection import Collection

from rainbond_kit.data.fields import REMOVE_TIME, stored_name
from rainbond_kit.data.store_errors import server_message as _message

__all__ = [
    "CONFLICT_CODES",
    "IndexBoard",
    "IndexEntry",
    "IndexStatus",
    "StoreDown",
    "build_index",
    "index_keys",
    "index_name",
    "supported_sorts",
    "unique_live",
]

IndexStatus = Literal["pending", "built", "conflict", "error"]
#: IndexOptionsConflict, IndexKeySpecsConflict, IndexAlreadyExists (older servers)
CONFLICT_CODES = frozenset({85, 86, 68})
_DUPLICATE_KEY = 11000


class StoreDown(Exception):
    """MongoDB could not be reached; the build should be tried again later."""


@dataclass(frozen=True)
class IndexEntry:
    """One declared index and its state."""

    collection: str
    name: str
    keys: tuple[tuple[str, Any], ...]
    status: IndexStatus = "pending"
    #: why it is not built (``conflict``/``error``), one line
    detail: str = ""

    def describe(self) -> str:
        """``index NAME (a 1, b -1) on COLLECTION``: what a log line or the CLI names."""
        keys = ", ".join(f"{field} {direction}" for field, direction in self.keys)
        return f"index {self.name} ({keys}) on {self.collection}"


def index_keys(model: pymongo.IndexModel) -> tuple[tuple[str, Any], ...]:
    """The key pattern of ``model`` as ``((field, direction), ...)``."""
    return tuple(model.document["key"].items())


def index_name(model: pymongo.IndexModel) -> str:
    """The name ``model`` is created under (pymongo fills in ``a_1_b_-1`` when none is given)."""
    name: str = model.document["name"]
    return name


def unique_live(*fields: str, name: str | None = None) -> pymongo.IndexModel:
    """A unique index on ``fields`` among live documents: soft-deleted ones do not block.

    The index is compound ``(*fields, remove_time)``: live documents have no ``remove_time``
    (indexed as null), so two live documents with the same values collide (409), while a
    soft-deleted one carries its deletion time and no longer holds the value. ::

        class Books(ResourceView):
            INDEXES = (unique_live("isbn"),)

    :param name: the index name (default ``<fields>_live_unique``).
    """
    if not fields:
        raise ValueError("unique_live() needs at least one field")
    keys = [(stored_name(f), pymongo.ASCENDING) for f in fields]
    default = "_".join(stored_name(f) for f in fields) + "_live_unique"
    return pymongo.IndexModel(
        [*keys, (REMOVE_TIME, pymongo.ASCENDING)], unique=True, name=name or default
    )


def supported_sorts(
    sortable: Iterable[str], stored: Mapping[str, str], indexes: Iterable[Sequence[Any]]
) -> frozenset[str]:
    """The sortable fields some index supports: its key pattern starts with the field.

    :param sortable: documented field names.
    :param stored: documented -> stored name where they differ (``id`` -> ``_id`` is implied).
    :param indexes: key patterns (``[(field, direction), ...]``); ``_id`` is always indexed.
    """
    leading = {"_id"} | {keys[0][0] for keys in indexes if keys}
    return frozenset(f for f in sortable if stored.get(f, stored_name(f)) in leading)


def build_index(collection: Collection[Any], model: pymongo.IndexModel) -> tuple[IndexStatus, str]:
    """Create one index; return its status and, unless built, why (one line).

    :raises StoreDown: MongoDB is unreachable or timed out (a transient failure).
    """
    try:
        collection.create_indexes([model])
    except pymongo.errors.DuplicateKeyError as exc:
        return "conflict", f"existing documents violate it: {_message(exc)}"
    except (pymongo.errors.ConnectionFailure, pymongo.errors.ExecutionTimeout) as exc:
        raise StoreDown(type(exc).__name__) from exc
    except pymongo.errors.OperationFailure as exc:
        if exc.code == _DUPLICATE_KEY:
            return "conflict", f"existing documents violate it: {_message(exc)}"
        if exc.code in CONFLICT_CODES:
            return (
                "conflict",
                f"an index of that name exists with other keys or options: {_message(exc)}",
            )
        return "error", f"MongoDB refused it (code {exc.code}): {_message(exc)}"
    except pymongo.errors.PyMongoError as exc:
        return "error", f"{type(exc).__name__}: {_message(exc)}"
    return "built", ""


class IndexBoard:
    """Thread-safe record of declared indexes and their state; reading it does no I/O."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._entries: dict[tuple[str, str], IndexEntry] = {}
        self._models: dict[tuple[str, str], pymongo.IndexModel] = {}
        self._sortable: dict[str, tuple[frozenset[str], dict[str, str]]] = {}

    def declare(
        self,
        collection: str,
        models: Iterable[pymongo.IndexModel],
        *,
        sortable: frozenset[str] = frozenset(),
        stored: Mapping[str, str] | None = None,
    ) -> None:
        """Record ``collection``'s declared indexes (pending) and its sortable fields."""
        with self._lock:
            for model in models:
                key = (collection, index_name(model))
                if key not in self._entries:
                    self._entries[key] = IndexEntry(collection, key[1], index_keys(model))
                    self._models[key] = model
            known, names = self._sortable.get(collection, (frozenset(), {}))
            self._sortable[collection] = (known | sortable, {**names, **(stored or {})})

    def record(self, collection: str, name: str, status: IndexStatus, detail: str = "") -> None:
        """Set the state of one declared index."""
        with self._lock:
            key = (collection, name)
            self._entries[key] = replace(self._entries[key], status=status, detail=detail)
            self._lock.notify_all()

    def reset(self) -> None:
        """Every index pending again (new clients: a test override, a forked worker)."""
        with self._lock:
            for key, entry in self._entries.items():
                self._entries[key] = replace(entry, status="pending", detail="")

    def entries(self) -> list[IndexEntry]:
        """Every declared index, by collection and name."""
        with self._lock:
            return sorted(self._entries.values(), key=lambda e: (e.collection, e.name))

    def pending(self) -> list[tuple[IndexEntry, pymongo.IndexModel]]:
        """The indexes still to build, with their models."""
        with self._lock:
            return [
                (entry, self._models[key])
                for key, entry in sorted(self._entries.items())
                if entry.status == "pending"
            ]

    def counts(self) -> dict[str, int]:
        """How many declared indexes are in each state (states with none left out)."""
        found: dict[str, int] = {}
        for entry in self.entries():
            found[entry.status] = found.get(entry.status, 0) + 1
        return found

    def sortable(self) -> dict[str, tuple[frozenset[str], dict[str, str]]]:
        """Per collection: its sortable documented fields and their stored names."""
        with self._lock:
            return dict(self._sortable)

    def wait(self, timeout: float) -> bool:
        """Block until no declared index is pending (or ``timeout`` seconds); whether none is."""
        with self._lock:
            return self._lock.wait_for(
                lambda: all(e.status != "pending" for e in self._entries.values()), timeout
            )
