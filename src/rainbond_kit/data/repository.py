"""``MongoRepository``: typed CRUD over one collection; everything else calls it.

- Timestamps: ``creation_time`` on insert, ``update_time`` on every write, UTC BSON dates.
- Documents leave in public form (``documents.to_public``): ``id`` string, ms timestamps.
- Resource writes (:meth:`write_by_id`, :meth:`delete_by_id`, in ``data/versioned.py``) are
  single conditional updates with the scope and the expected version in their filter.
- Soft delete (``remove_time``): soft-deleted documents are invisible to every read, count
  and update unless ``include_deleted=True`` is passed.
- Filters passed by *server* code may use MongoDB operators; ``id`` maps to ``_id`` (strings
  become ``ObjectId``). Client input never reaches here unparsed: it goes through
  :mod:`rainbond_kit.query` first.
- pymongo errors stay inside: duplicate key -> 409 naming the field(s) (values only of
  ``readable`` fields), unreachable server or time limit -> 503, a rejected query -> 400.
- Every method takes ``session=`` (a transaction: :meth:`with_transaction`, in
  ``data/transactions.py``); :meth:`aggregate` (``data/aggregate.py``) filters first.
- Every read, count and ``findAndModify`` carries ``maxTimeMS`` (``data/limits.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pymongo
import pymongo.errors
from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.results import UpdateResult

from rainbond_kit.data.aggregate import AggregateMixin
from rainbond_kit.data.documents import object_id, to_public
from rainbond_kit.data.epoch import utcnow
from rainbond_kit.data.fields import CREATION_TIME, REMOVE_TIME, UPDATE_TIME, VERSION, is_id
from rainbond_kit.data.filters import live_filter, normalize_filter
from rainbond_kit.data.limits import TimeLimitMixin
from rainbond_kit.data.observe import StoreObserver, observed
from rainbond_kit.data.paging import Page, PagingMixin
from rainbond_kit.data.store_errors import store_errors
from rainbond_kit.data.transactions import TransactionsMixin
from rainbond_kit.data.versioned import VersionedWritesMixin, primary, update_document, version_of
from rainbond_kit.errors import NotFoundError, PreconditionFailedError

__all__ = ["MongoRepository", "Page", "UpdateCounts"]

log = logging.getLogger("rainbond_kit.data.repository")

Doc = dict[str, Any]
#: a ``ClientSession`` to run in (a transaction), or ``None``
Session = ClientSession | None


@dataclass(frozen=True)
class UpdateCounts:
    """How many documents an update matched and changed."""

    matched_count: int
    modified_count: int


class MongoRepository(
    VersionedWritesMixin, PagingMixin, AggregateMixin, TransactionsMixin, TimeLimitMixin
):
    """CRUD over one collection.

    :param database: the database (from the container's ``mongo_db``).
    :param collection: the collection name.
    :param soft_delete: whether :meth:`delete_by_id` soft-deletes (``remove_time``).
    :param indexes: ``pymongo.IndexModel`` list created by :meth:`ensure_indexes`.
    :param readable: stored fields a duplicate-key 409 may show the value of.
    :param names: stored field -> the name clients use (``data_key``) in a 409.
    :param max_time_ms: the server-side time limit of each query (``None``: none).
    :param observer: hears of every store operation (the MongoDB metrics), if given.
    """

    def __init__(
        self,
        database: Database[Doc],
        collection: str,
        *,
        soft_delete: bool = True,
        indexes: Sequence[pymongo.IndexModel] = (),
        readable: Iterable[str] = (),
        names: Mapping[str, str] | None = None,
        max_time_ms: int | None = None,
        observer: StoreObserver | None = None,
    ) -> None:
        self.collection: Collection[Doc] = database[collection]
        self.observer = observer
        self.uses_soft_delete = soft_delete
        self.indexes = tuple(indexes)
        self.readable = frozenset(readable)
        self.names = dict(names or {})
        self.max_time_ms = max_time_ms

    # --- helpers ------------------------------------------------------------------------

    def errors(self, operation: str | None = None) -> contextlib.AbstractContextManager[None]:
        """A block whose driver errors become the project's HTTP errors.

        :param operation: the store operation the block makes (``find``, ``update``, ...),
            timed for the :attr:`observer`; ``None``: not observed.
        """
        translate = store_errors(indexes=self.indexes, readable=self.readable, names=self.names)
        if operation is None:
            return translate
        return observed(translate, self.observer, operation, self.collection.name)

    @staticmethod
    def normalize(filter: Mapping[str, Any] | None) -> Doc:
        """:func:`normalize_filter`: ``id``/``_id`` strings become ``ObjectId``."""
        return normalize_filter(filter)

    @staticmethod
    def live(filter: Mapping[str, Any] | None, include_deleted: bool = False) -> Doc:
        """``filter`` (normalised) restricted to live documents unless ``include_deleted``."""
        query = normalize_filter(filter)
        return query if include_deleted else live_filter(query)

    # --- writes -------------------------------------------------------------------------

    def _prepare_insert(self, doc: Mapping[str, Any], now: dt.datetime) -> Doc:
        stored = {k: v for k, v in doc.items() if k != "id"}
        if "id" in doc:
            stored["_id"] = object_id(doc["id"])
        elif "_id" in doc:
            stored["_id"] = object_id(doc["_id"])
        stored.setdefault(CREATION_TIME, now)
        stored[UPDATE_TIME] = now
        return stored

    def insert_one(self, doc: Mapping[str, Any], *, session: Session = None) -> Doc:
        """Insert one document (the caller's dict is not modified); return it in public form."""
        stored = self._prepare_insert(doc, utcnow())
        with self.errors("insert"):
            result = self.collection.insert_one(stored, session=session)
        stored["_id"] = result.inserted_id
        return to_public(stored)

    def insert_many(
        self, docs: Iterable[Mapping[str, Any]], *, session: Session = None
    ) -> list[str]:
        """Bulk insert (ordered); return the new ids. The caller's dicts are not modified."""
        now = utcnow()
        stored = [self._prepare_insert(d, now) for d in docs]
        if not stored:
            return []
        with self.errors("insert"):
            result = self.collection.insert_many(stored, session=session)
        return [str(i) for i in result.inserted_ids]

    def update(
        self,
        filter: Mapping[str, Any],
        changes: Mapping[str, Any],
        *,
        many: bool = False,
        include_deleted: bool = False,
        session: Session = None,
    ) -> UpdateCounts:
        """``$set`` ``changes`` (or apply an operator document) on matching live documents."""
        update = update_document(changes, utcnow())
        result = self._update(self.live(filter, include_deleted), update, many, session)
        return UpdateCounts(result.matched_count, result.modified_count)

    def _update(self, query: Doc, update: Doc, many: bool, session: Session) -> UpdateResult:
        with self.errors("update"):
            if many:
                return self.collection.update_many(query, update, session=session)
            return self.collection.update_one(query, update, session=session)

    def increment(
        self,
        filter: Mapping[str, Any],
        amounts: Mapping[str, Any],
        *,
        many: bool = False,
        session: Session = None,
    ) -> UpdateCounts:
        """Atomically add ``amounts`` (``$inc``; numbers, ``Decimal128`` too) to matching live
        documents."""
        return self.update(filter, {"$inc": dict(amounts)}, many=many, session=session)

    def update_by_id(
        self,
        id: str,
        changes: Mapping[str, Any],
        *,
        replace: bool = False,
        expected_update_time: dt.datetime | None = None,
        session: Session = None,
    ) -> Doc:
        """Update (or with ``replace`` rewrite) one live document; return its new public form.

        :param expected_update_time: optimistic concurrency: only write if the stored
            ``update_time`` still equals this (else :class:`PreconditionFailedError`).
        :raises NotFoundError: no live document has this id.
        """
        query = self.live({"_id": object_id(id)}, False)
        if expected_update_time is not None:
            query[UPDATE_TIME] = expected_update_time
        now = utcnow()
        with self.errors("replace" if replace else "update"):
            if replace:
                current = primary(self.collection).find_one(
                    query, {CREATION_TIME: 1, VERSION: 1}, **self.reads(session)
                )
                if current is not None:
                    body = {k: v for k, v in changes.items() if not is_id(k)}
                    body[CREATION_TIME] = current.get(CREATION_TIME, now)
                    body[UPDATE_TIME] = now
                    body[VERSION] = version_of(current) + 1
                    result = self.collection.find_one_and_replace(
                        query, body, return_document=ReturnDocument.AFTER, **self.commands(session)
                    )
                else:
                    result = None
            else:
                result = self.collection.find_one_and_update(
                    query,
                    update_document(changes, now),
                    return_document=ReturnDocument.AFTER,
                    **self.commands(session),
                )
        if result is None:
            if expected_update_time is not None and self._exists_on_primary(id, session):
                raise PreconditionFailedError("the document changed since it was read (ETag)")
            raise NotFoundError(f"no document with id {id}")
        return to_public(result)

    def _exists_on_primary(self, id: str, session: Session = None) -> bool:
        with self.errors("find_one"):
            found = primary(self.collection).find_one(
                self.live({"_id": object_id(id)}), {"_id": 1}, **self.reads(session)
            )
        return found is not None

    def delete(
        self,
        filter: Mapping[str, Any],
        *,
        many: bool = False,
        include_deleted: bool = True,
        session: Session = None,
    ) -> int:
        """Hard-delete matching documents (soft-deleted ones included); return how many."""
        query = self.live(filter, include_deleted)
        with self.errors("delete"):
            result = (
                self.collection.delete_many(query, session=session)
                if many
                else self.collection.delete_one(query, session=session)
            )
        return result.deleted_count

    def soft_delete(
        self, filter: Mapping[str, Any], *, many: bool = False, session: Session = None
    ) -> int:
        """Mark matching live documents deleted (``remove_time``); return how many."""
        now = utcnow()
        update = {"$set": {REMOVE_TIME: now, UPDATE_TIME: now}}
        return self._update(self.live(filter, False), update, many, session).modified_count

    def restore(
        self, filter: Mapping[str, Any], *, many: bool = False, session: Session = None
    ) -> int:
        """Undo a soft delete on matching documents; return how many came back."""
        query = normalize_filter(filter)
        query[REMOVE_TIME] = {"$exists": True}
        update = {"$unset": {REMOVE_TIME: ""}, "$set": {UPDATE_TIME: utcnow()}}
        return self._update(query, update, many, session).modified_count

    # --- reads --------------------------------------------------------------------------

    def get(
        self,
        id: str,
        *,
        include_deleted: bool = False,
        projection: Mapping[str, Any] | None = None,
        session: Session = None,
    ) -> Doc:
        """The document with ``id`` in public form.

        :raises BadRequestError: ``id`` is not a valid ObjectId.
        :raises NotFoundError: no (live) document has it.
        """
        doc = self.find_one(
            {"_id": object_id(id)},
            include_deleted=include_deleted,
            projection=projection,
            session=session,
        )
        if doc is None:
            raise NotFoundError(f"no document with id {id}")
        return doc

    def get_raw(self, id: str, *, session: Session = None) -> Doc | None:
        """The stored (BSON-typed) live document with ``id``, or ``None``."""
        with self.errors("find_one"):
            return self.collection.find_one(
                self.live({"_id": object_id(id)}, False), **self.reads(session)
            )

    def get_many(
        self, ids: Sequence[str], *, include_deleted: bool = False, session: Session = None
    ) -> list[Doc]:
        """Documents with these ids, **in the order of** ``ids``; missing ids are skipped."""
        if not ids:
            return []
        oids = [object_id(i) for i in ids]
        found = {
            d["id"]: d
            for d in self.find(
                {"_id": {"$in": oids}}, include_deleted=include_deleted, session=session
            )
        }
        return [found[str(o)] for o in oids if str(o) in found]

    def find(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] | None = None,
        skip: int = 0,
        limit: int = 0,
        projection: Mapping[str, Any] | None = None,
        include_deleted: bool = False,
        session: Session = None,
    ) -> list[Doc]:
        """Matching documents in public form."""
        with self.errors("find"):
            cursor = self.collection.find(
                self.live(filter, include_deleted), projection, **self.reads(session)
            )
            if sort:
                cursor = cursor.sort(list(sort))
            return [to_public(d) for d in cursor.skip(skip).limit(limit)]

    def find_one(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        include_deleted: bool = False,
        projection: Mapping[str, Any] | None = None,
        session: Session = None,
    ) -> Doc | None:
        """The first matching document in public form, or ``None``."""
        with self.errors("find_one"):
            doc = self.collection.find_one(
                self.live(filter, include_deleted), projection, **self.reads(session)
            )
        return to_public(doc) if doc is not None else None

    def exists(
        self, filter: Mapping[str, Any], *, include_deleted: bool = False, session: Session = None
    ) -> bool:
        """Whether a matching (live) document exists; stops at the first."""
        query = self.live(filter, include_deleted)
        with self.errors("find_one"):
            return self.collection.find_one(query, {"_id": 1}, **self.reads(session)) is not None

    def count(
        self,
        filter: Mapping[str, Any] | None = None,
        *,
        include_deleted: bool = False,
        session: Session = None,
    ) -> int:
        """How many (live) documents match."""
        with self.errors("count"):
            return self.collection.count_documents(
                self.live(filter, include_deleted), **self.commands(session)
            )

    def distinct(
        self,
        field: str,
        filter: Mapping[str, Any] | None = None,
        *,
        include_deleted: bool = False,
        session: Session = None,
    ) -> list[Any]:
        """Distinct values of ``field`` among (live) matching documents."""
        with self.errors("distinct"):
            return self.collection.distinct(
                field, self.live(filter, include_deleted), **self.commands(session)
            )

    def ensure_indexes(self) -> None:
        """Create the declared indexes now (idempotent); apps build them in the background
        instead (:mod:`rainbond_kit.data.index_builder`)."""
        if self.indexes:
            with self.errors("create_indexes"):
                self.collection.create_indexes(list(self.indexes))
