"""Conditional single-document writes: scope and version in the write's own filter.

Each write is one ``find_one_and_update`` (or delete) whose filter ANDs the id, the live
(not soft-deleted) condition, the caller's scope (row-level rules) and, for ``If-Match``, the
expected version; it increments :data:`VERSION` and raises ``update_time`` with ``$max`` (a
replica with a slow clock never moves it backwards). A write that would change nothing is not
made: the document, its version and ``update_time`` stay as they are. Only when the write did
not happen is the document read, to tell *no-op* from 404 from 412.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pymongo import ReadPreference, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from rainbond_kit.data.documents import object_id, to_public
from rainbond_kit.data.epoch import utcnow
from rainbond_kit.data.fields import (
    CREATION_TIME,
    REMOVE_TIME,
    STORED_ID,
    UPDATE_TIME,
    VERSION,
    is_id,
)
from rainbond_kit.data.filters import live_filter, normalize_filter
from rainbond_kit.errors import NotFoundError, PreconditionFailedError

__all__ = ["VersionedWritesMixin", "primary", "update_document", "version_of"]

Doc = dict[str, Any]


def primary(collection: Collection[Doc]) -> Collection[Doc]:
    """``collection`` reading from the primary whatever ``readPreference`` the URI sets: the
    kit's reads before and after a write must see the latest committed state (a secondary
    may lag, turning a fresh document into a 404 or a current version into a 412)."""
    return collection.with_options(read_preference=ReadPreference.PRIMARY)


def version_of(doc: Mapping[str, Any]) -> int:
    """A document's write version (0 when it was never written through a resource); an
    integral double (the mongo shell's numbers: its ``$inc`` turns an int into a double) is the
    integer it equals, as the write filter's ``{_version: n}`` matches it."""
    value = doc.get(VERSION, 0)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return 0


def _version_condition(expected: int) -> Doc:
    return {VERSION: {"$exists": False}} if expected == 0 else {VERSION: expected}


class _Repository(Protocol):
    collection: Collection[Doc]
    uses_soft_delete: bool
    max_time_ms: int | None
    time_limit: dict[str, Any]

    def errors(self, operation: str | None = None) -> contextlib.AbstractContextManager[None]: ...


class VersionedWritesMixin:
    """``write_by_id`` and ``delete_by_id`` of :class:`MongoRepository`."""

    def _target(
        self,
        id: str,
        scope: Mapping[str, Any] | None,
        expected_version: int | None,
        shard_key: Mapping[str, Any] | None = None,
    ) -> list[Doc]:
        parts: list[Doc] = [live_filter({STORED_ID: object_id(id)})]
        if shard_key:
            parts.append(dict(shard_key))
        if scope:
            parts.append(normalize_filter(scope))
        if expected_version is not None:
            parts.append(_version_condition(expected_version))
        return parts

    def _missed(
        self,
        id: str,
        scope: Mapping[str, Any] | None,
        expected_version: int | None,
        session: ClientSession | None = None,
    ) -> Doc:
        """After a write that matched nothing: the current document (a no-op), else 404/412."""
        repo: _Repository = self  # type: ignore[assignment]
        query: Doc = live_filter({STORED_ID: object_id(id)})
        if scope:
            query = {"$and": [query, normalize_filter(scope)]}
        with repo.errors("find_one"):
            current = primary(repo.collection).find_one(
                query, session=session, max_time_ms=repo.max_time_ms
            )
        if current is None:
            raise NotFoundError(f"no document with id {id}")
        if expected_version is not None and version_of(current) != expected_version:
            raise PreconditionFailedError("the document changed since it was read (ETag)")
        return current

    def update_spec(
        self,
        id: str,
        sets: Mapping[str, Any],
        unsets: frozenset[str] | set[str],
        scope: Mapping[str, Any] | None,
        expected_version: int | None,
        conditions: Mapping[str, Any] | None = None,
        shard_key: Mapping[str, Any] | None = None,
    ) -> tuple[Doc, Doc] | None:
        """The ``(filter, update)`` of :meth:`write_by_id` (also one operation of a bulk
        write); ``None`` when there is nothing to set or unset."""
        differs: list[Doc] = [{path: {"$ne": value}} for path, value in sets.items()]
        differs += [{path: {"$exists": True}} for path in unsets]
        if not differs:
            return None
        parts = self._target(id, scope, expected_version, shard_key)
        if conditions:
            parts.append(dict(conditions))
        update: Doc = {"$inc": {VERSION: 1}, "$max": {UPDATE_TIME: utcnow()}}
        if sets:
            update["$set"] = dict(sets)
        if unsets:
            update["$unset"] = dict.fromkeys(unsets, "")
        return {"$and": [*parts, {"$or": differs}]}, update

    def delete_spec(
        self,
        id: str,
        scope: Mapping[str, Any] | None,
        expected_version: int | None,
        shard_key: Mapping[str, Any] | None = None,
    ) -> tuple[Doc, Doc | None]:
        """The ``(filter, update)`` of :meth:`delete_by_id`: the update soft-deletes; ``None``
        means a hard delete."""
        repo: _Repository = self  # type: ignore[assignment]
        query = {"$and": self._target(id, scope, expected_version, shard_key)}
        if not repo.uses_soft_delete:
            return query, None
        now = utcnow()
        return query, {"$set": {REMOVE_TIME: now}, "$max": {UPDATE_TIME: now}, "$inc": {VERSION: 1}}

    def stored_values(self, id: str, fields: Sequence[str]) -> Doc | None:
        """``fields`` of the live document ``id`` as stored (absent ones ``None``), read from
        the primary; ``None`` when there is no such document (the shard key of a write)."""
        repo: _Repository = self  # type: ignore[assignment]
        with repo.errors("find_one"):
            doc = primary(repo.collection).find_one(
                live_filter({STORED_ID: object_id(id)}),
                dict.fromkeys(fields, 1),
                max_time_ms=repo.max_time_ms,
            )
        return None if doc is None else {f: doc.get(f) for f in fields}

    def write_by_id(
        self,
        id: str,
        sets: Mapping[str, Any],
        unsets: frozenset[str] | set[str] = frozenset(),
        *,
        scope: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        conditions: Mapping[str, Any] | None = None,
        session: ClientSession | None = None,
        shard_key: Mapping[str, Any] | None = None,
    ) -> Doc:
        """``$set`` ``sets`` and ``$unset`` ``unsets`` (dotted paths allowed) on one live
        document within ``scope``, atomically, if that changes anything; return its public form.

        ``conditions`` (server-side) are ANDed into the write's filter; when they do not hold,
        nothing is written and the current document is returned, as for a no-op. ``session``:
        run inside that session's transaction (see :meth:`MongoRepository.transaction`).
        ``shard_key`` (field -> current value) is ANDed into the filter: a sharded cluster
        before MongoDB 7.0 needs it in a ``findAndModify``.

        :raises NotFoundError: no live document with this id is in ``scope``.
        :raises PreconditionFailedError: its version is not ``expected_version``.
        """
        repo: _Repository = self  # type: ignore[assignment]
        spec = self.update_spec(id, sets, unsets, scope, expected_version, conditions, shard_key)
        if spec is not None:
            with repo.errors("update"):
                result = repo.collection.find_one_and_update(
                    *spec,
                    return_document=ReturnDocument.AFTER,
                    session=session,
                    **repo.time_limit,
                )
            if result is not None:
                return to_public(result)
        return to_public(self._missed(id, scope, expected_version, session))

    def delete_by_id(
        self,
        id: str,
        *,
        scope: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        session: ClientSession | None = None,
        shard_key: Mapping[str, Any] | None = None,
    ) -> None:
        """Delete one live document within ``scope``: soft when the repository uses soft delete.

        :raises NotFoundError: no live document with this id is in ``scope``.
        :raises PreconditionFailedError: its version is not ``expected_version``.
        """
        repo: _Repository = self  # type: ignore[assignment]
        query, update = self.delete_spec(id, scope, expected_version, shard_key)
        with repo.errors("delete" if update is None else "update"):
            if update is not None:
                done = repo.collection.update_one(query, update, session=session).modified_count
            else:
                done = repo.collection.delete_one(query, session=session).deleted_count
        if not done:
            self._missed(id, scope, expected_version, session)
            raise PreconditionFailedError("the document changed since it was read (ETag)")


def update_document(changes: Mapping[str, Any], now: dt.datetime) -> Doc:
    """``{"a": 1}`` -> ``{"$set": {"a": 1, UPDATE_TIME: now}, "$inc": {VERSION: 1}}``;
    operator documents kept (the version still moves: every update changes the ETag)."""
    operators = [k for k in changes if k.startswith("$")]
    if operators and len(operators) != len(changes):
        raise ValueError("an update mixes operators and plain fields")
    if operators:
        update = {k: dict(v) for k, v in changes.items()}
        update.setdefault("$set", {})[UPDATE_TIME] = now
        update.setdefault("$inc", {}).setdefault(VERSION, 1)
        return update
    fields = {k: v for k, v in changes.items() if not is_id(k) and k != CREATION_TIME}
    return {"$set": {**fields, UPDATE_TIME: now}, "$inc": {VERSION: 1}}
