"""Batches of writes as one MongoDB bulk write, with an outcome per operation.

The caller (``resource.batch``) reads the documents a batch names first
(:func:`read_targets`), so every update and delete is built against the version it saw: its
filter holds the id, the live condition, the scope and that version, as a single write's does
(``data.versioned``'s ``update_spec``/``delete_spec``). :func:`run_bulk` then sends them all in
one ``bulk_write`` (ordered or not), maps the driver's per-operation errors (duplicate key, ...)
back to the operations, and, only when fewer documents matched than were written to (a
concurrent writer, or a write that would change nothing), reads those documents again: an
operation whose effect is in the document (values set, members gone, document deleted)
succeeded; any other is a 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import bson
import pymongo.errors
from bson import ObjectId
from pymongo import DeleteOne, InsertOne, UpdateOne

from rainbond_kit.data.documents import object_id
from rainbond_kit.data.epoch import utcnow
from rainbond_kit.data.fields import REMOVE_TIME, STORED_ID
from rainbond_kit.data.filters import live_filter, normalize_filter
from rainbond_kit.data.store_errors import http_error_for
from rainbond_kit.data.versioned import version_of
from rainbond_kit.errors import ConflictError, HTTPError, PreconditionFailedError, http_error

if TYPE_CHECKING:
    from rainbond_kit.data.repository import MongoRepository

__all__ = [
    "NOT_RUN",
    "Delete",
    "Insert",
    "Outcome",
    "Update",
    "insert_absent",
    "read_targets",
    "run_bulk",
]

Doc = dict[str, Any]


@dataclass(frozen=True)
class Insert:
    """Insert ``doc`` (stored form, without timestamps); its ``_id`` is chosen here."""

    doc: Mapping[str, Any]


@dataclass(frozen=True)
class Update:
    """``$set``/``$unset`` on document ``id``, expected at ``version`` (as read)."""

    id: str
    version: int
    sets: Mapping[str, Any]
    unsets: frozenset[str]
    scope: Mapping[str, Any] | None = None
    conditions: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Delete:
    """Delete document ``id`` (soft where the repository soft-deletes), expected at ``version``."""

    id: str
    version: int
    scope: Mapping[str, Any] | None = None


Operation = Insert | Update | Delete


@dataclass
class Outcome:
    """What happened to one operation: ``error`` is ``None`` on success."""

    id: str | None = None
    version: int | None = None
    error: HTTPError | None = None
    #: the inserted document (stored form), for the response
    doc: Doc | None = field(default=None, repr=False)


#: the error of an operation an ordered batch did not run (an earlier one failed)
NOT_RUN = "not run: an earlier operation of this ordered batch failed"


def read_targets(
    repository: MongoRepository, ids: Sequence[str], scope: Mapping[str, Any] | None
) -> dict[str, Doc]:
    """The live documents with ``ids`` within ``scope`` (one query), by id string."""
    if not ids:
        return {}
    query: Doc = live_filter({STORED_ID: {"$in": [object_id(i) for i in ids]}})
    if scope:
        query = {"$and": [query, normalize_filter(scope)]}
    with repository.errors("find"):
        found = repository.collection.find(query, **repository.reads())
        return {str(d[STORED_ID]): d for d in found}


def _model(repository: MongoRepository, op: Update | Delete) -> Any:
    if isinstance(op, Update):
        spec = repository.update_spec(
            op.id, op.sets, set(op.unsets), op.scope, op.version, op.conditions
        )
        assert spec is not None  # a no-op update is answered without a write
        return UpdateOne(*spec)
    query, update = repository.delete_spec(op.id, op.scope, op.version)
    return DeleteOne(query) if update is None else UpdateOne(query, update)


def _at(doc: Mapping[str, Any] | None, path: str) -> tuple[bool, Any]:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _same(stored: Any, written: Any) -> bool:
    """Whether ``written`` reads back as ``stored`` (BSON round trip: ms dates, ...)."""
    back = bson.decode(bson.encode({"v": written}))["v"]
    if isinstance(back, dt.datetime) and isinstance(stored, dt.datetime):
        return back.replace(tzinfo=None) == stored.replace(tzinfo=None)
    return bool(back == stored)


def _took_effect(op: Update | Delete, current: Mapping[str, Any] | None) -> bool:
    if isinstance(op, Delete):
        return current is None or REMOVE_TIME in current
    if current is None or REMOVE_TIME in current:
        return False
    for path, value in op.sets.items():
        found, stored = _at(current, path)
        if not found or not _same(stored, value):
            return False
    return not any(_at(current, path)[0] for path in op.unsets)


def _store_error(repository: MongoRepository, error: Mapping[str, Any]) -> HTTPError:
    """One operation's write error (``writeErrors[i]``) as the error a single write would
    raise: a duplicate names its fields as the repository's 409s do."""
    code = error.get("code")
    kind = (
        pymongo.errors.DuplicateKeyError
        if code in (11000, 11001)
        else pymongo.errors.OperationFailure
    )
    translated = http_error_for(
        kind(str(error.get("errmsg", "")), code, dict(error)),
        indexes=repository.indexes,
        readable=repository.readable,
        names=repository.names,
    )
    assert translated is not None  # every driver error translates
    return translated


def run_bulk(
    repository: MongoRepository, ops: Sequence[Operation], *, ordered: bool
) -> list[Outcome]:
    """Run ``ops`` as one ``bulk_write``; one :class:`Outcome` per operation, in order.

    An ordered batch stops at its first failed operation: the rest get :data:`NOT_RUN` (424).

    :raises ServiceUnavailableError: MongoDB failed as a whole (no outcome is known).
    """
    if not ops:
        return []
    now = utcnow()
    outcomes: list[Outcome] = []
    models: list[Any] = []
    for op in ops:
        if isinstance(op, Insert):
            stored = repository._prepare_insert(op.doc, now)
            stored[STORED_ID] = ObjectId()
            outcomes.append(Outcome(str(stored[STORED_ID]), 0, doc=stored))
            models.append(InsertOne(stored))
        else:
            outcomes.append(Outcome(op.id, op.version + 1))
            models.append(_model(repository, op))
    failed: dict[int, HTTPError] = {}
    with repository.errors("bulk_write"):
        try:
            result = repository.collection.bulk_write(models, ordered=ordered)
            matched = result.matched_count + result.deleted_count
        except pymongo.errors.BulkWriteError as exc:
            details = exc.details
            for error in details.get("writeErrors", []):
                failed[int(error["index"])] = _store_error(repository, error)
            matched = int(details.get("nMatched", 0)) + int(details.get("nRemoved", 0))
    last = min(failed) if ordered and failed else len(ops)
    for index, outcome in enumerate(outcomes):
        if index in failed:
            outcome.error = failed[index]
        elif index > last:
            outcome.error = http_error(424, NOT_RUN)
    _verify(repository, ops, outcomes, matched)
    return outcomes


def _verify(
    repository: MongoRepository, ops: Sequence[Operation], outcomes: list[Outcome], matched: int
) -> None:
    """When fewer documents matched than updates and deletes ran: read them and keep the
    success of those whose effect is there (a no-op, or ours), 409 for the others."""
    ran = [
        i for i, op in enumerate(ops) if not isinstance(op, Insert) and outcomes[i].error is None
    ]
    if matched >= len(ran):
        return
    ids = [ObjectId(outcomes[i].id) for i in ran]
    with repository.errors("find"):
        current = {
            str(d[STORED_ID]): d
            for d in repository.collection.find({STORED_ID: {"$in": ids}}, **repository.reads())
        }
    for index in ran:
        op = ops[index]
        assert not isinstance(op, Insert)
        doc = current.get(op.id)
        if _took_effect(op, doc):
            outcomes[index].version = version_of(doc) if doc is not None else None
        else:
            outcomes[index].error = ConflictError(
                "the document changed while the batch ran; read it and retry"
            )


def insert_absent(repository: MongoRepository, doc: Mapping[str, Any]) -> Doc:
    """Insert ``doc`` at its ``_id`` only if no document (live or soft-deleted) has that id.

    :raises PreconditionFailedError: that id is taken (``PUT`` with ``If-None-Match: *``).
    :raises ConflictError: another unique index refused the document.
    """
    try:
        return repository.insert_one(doc)
    except ConflictError:
        with repository.errors("find_one"):
            taken = repository.collection.find_one(
                {STORED_ID: object_id(doc[STORED_ID])}, {}, **repository.reads()
            )
        if taken is not None:
            raise PreconditionFailedError("a document with this id exists") from None
        raise
