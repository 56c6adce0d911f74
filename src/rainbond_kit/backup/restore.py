"""Restore a dump (ours or mongodump's directory layout) into a database.

Collections are created with their dumped options (capped, validator, collation, ...),
documents are inserted as raw BSON (each checked by decoding it once, never re-encoded, so
types survive byte for byte; validation is bypassed, as the documents were valid when
dumped), then every index is created from its dumped specification as is, one by one. Views come last, each after the
view or collection it reads. Without ``drop`` nothing is dropped: target collections that
hold documents (or whose options differ) are refused, empty ones are kept and filled.

Nothing is skipped quietly: whatever could not be restored (a time-series collection, an
index kind the server refuses, a duplicate key, an unreadable file, ...) is collected and
raised at the end as :class:`IncompleteRestoreError`, after everything else was restored.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from bson import SON, decode
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.errors import InvalidBSON
from bson.raw_bson import RawBSONDocument
from pymongo.database import Database
from pymongo.errors import BulkWriteError, OperationFailure

from rainbond_kit.backup.dump import RAW_CODEC_OPTIONS
from rainbond_kit.backup.errors import BackupError, IncompleteRestoreError, RestoreConflictError
from rainbond_kit.backup.progress import Progress, Totals
from rainbond_kit.backup.reader import CollectionDump, read_dump
from rainbond_kit.backup.source import resolve_source

__all__ = ["restore_database", "restore_folder"]

#: Flush an insert batch at this many bytes (well under the 48 MB message limit).
BATCH_BYTES = 8 << 20
BATCH_DOCUMENTS = 1000
#: The smallest BSON document (``{}``) and the largest a server stores (mongod's
#: ``BSONObjMaxInternalSize``: 16 MiB + 16 KiB).
MIN_DOCUMENT_BYTES = 5
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 + 16 * 1024
#: Decoding every document once checks it is well-formed inside (lengths, type codes,
#: UTF-8), not only its outer length: a damaged document is reported against its file
#: rather than sent raw for the server to refuse the whole insert (or, without its wire
#: check, to store). Any datetime a server can hold decodes.
_CHECK_OPTIONS: CodecOptions[dict[str, object]] = CodecOptions(
    datetime_conversion=DatetimeConversion.DATETIME_AUTO
)


def _open(path: Path) -> BinaryIO:
    if path.name.endswith(".gz"):
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]  # GzipFile is a binary file
    return path.open("rb")


def _documents(fh: BinaryIO) -> Iterator[RawBSONDocument]:
    """The file's documents, each checked; a damaged size field is refused before reading on."""
    while head := fh.read(4):
        size = int.from_bytes(head, "little", signed=True)
        if len(head) < 4:
            raise InvalidBSON("the file ends inside a document's size field")
        if not MIN_DOCUMENT_BYTES <= size <= MAX_DOCUMENT_BYTES:
            raise InvalidBSON(
                f"a document's size field says {size} bytes, outside BSON's"
                f" {MIN_DOCUMENT_BYTES} to {MAX_DOCUMENT_BYTES}"
            )
        raw = head + fh.read(size - 4)
        if len(raw) < size:
            raise InvalidBSON(f"the file ends inside a document of {size} bytes")
        decode(raw, codec_options=_CHECK_OPTIONS)
        yield RawBSONDocument(raw, codec_options=RAW_CODEC_OPTIONS)


def _batches(path: Path) -> Iterator[tuple[list[RawBSONDocument], int]]:
    batch: list[RawBSONDocument] = []
    size = 0
    with _open(path) as fh:
        for document in _documents(fh):
            batch.append(document)
            size += len(document.raw)
            if size >= BATCH_BYTES or len(batch) >= BATCH_DOCUMENTS:
                yield batch, size
                batch, size = [], 0
    if batch:
        yield batch, size


def _short(exc: Exception) -> str:
    return str(exc).split(", full error:")[0].splitlines()[0]


def _check_targets(db: Database[Any], dumps: list[CollectionDump], drop: bool) -> set[str]:
    """Refuse or clear the target's collections the dump names; the names kept as they are.

    Without ``drop`` nothing is dropped: an existing empty collection with the dump's
    options is kept (its own indexes too) and filled; one holding documents, a view, or
    one whose options differ is refused before anything is written. With ``drop`` each is
    dropped and recreated from the dump.
    """
    existing = {str(info["name"]): info for info in db.list_collections()}
    busy: list[str] = []
    differ: list[str] = []
    kept: set[str] = set()
    for dump in dumps:
        info = existing.get(dump.name)
        if info is None:
            continue
        if (
            dump.is_view
            or info.get("type", "collection") != "collection"
            or db[dump.name].find_one({}, projection={"_id": 1}) is not None
        ):
            busy.append(dump.name)
        elif dict(info.get("options") or {}) != dict(dump.options):
            differ.append(dump.name)
        else:
            kept.add(dump.name)
    if drop:
        for name in (*busy, *differ, *sorted(kept)):
            db.drop_collection(name)
        return set()
    if busy:
        raise RestoreConflictError(
            f"database {db.name} already has data in {', '.join(busy)}: "
            "pass --drop to replace those collections"
        )
    if differ:
        raise RestoreConflictError(
            f"database {db.name} already has {', '.join(differ)} with other options than the"
            " backup's: pass --drop to replace those collections"
        )
    return kept


def _insert(db: Database[Any], dump: CollectionDump, progress: Progress) -> tuple[int, int, str]:
    """Insert the dump's documents; returns (inserted, bytes, failure or "")."""
    assert dump.data is not None
    collection = db.get_collection(dump.name, codec_options=RAW_CODEC_OPTIONS)
    inserted = nbytes = failed = 0
    first_error = ""
    progress.start(dump.name)
    try:
        for batch, size in _batches(dump.data):
            try:
                collection.insert_many(batch, ordered=False, bypass_document_validation=True)
                inserted += len(batch)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                failed += len(errors)
                inserted += len(batch) - len(errors)
                if errors and not first_error:
                    first_error = _short(Exception(errors[0].get("errmsg", "")))
            nbytes += size
            progress.advance(dump.name, inserted)
    except (InvalidBSON, OSError, EOFError) as exc:
        return inserted, nbytes, f"{dump.data.name} is damaged after {inserted} documents: {exc}"
    if failed:
        return inserted, nbytes, f"{failed} documents not inserted ({first_error})"
    return inserted, nbytes, ""


def _restore_collection(
    db: Database[Any], dump: CollectionDump, progress: Progress, failures: list[str], kept: bool
) -> tuple[int, int]:
    try:
        if kept:
            progress.info(f"{dump.name}: kept the existing empty collection and its indexes")
        else:
            db.command(SON([("create", dump.name), *dump.options.items()]))
    except OperationFailure as exc:
        failures.append(
            f"{dump.name}: not created ({_short(exc)}); its documents were not restored"
        )
        return 0, 0
    documents = nbytes = 0
    if dump.data is not None:
        documents, nbytes, failure = _insert(db, dump, progress)
        if failure:
            failures.append(f"{dump.name}: {failure}")
    for spec in dump.indexes:
        if spec.get("name") == "_id_":
            continue
        spec.pop("ns", None)
        try:
            db.command(SON([("createIndexes", dump.name), ("indexes", [spec])]))
        except OperationFailure as exc:
            failures.append(f"{dump.name}: index {spec.get('name')} not created ({_short(exc)})")
    return documents, nbytes


def _view_order(views: list[CollectionDump]) -> list[CollectionDump]:
    """Views after the views they read (a view's ``viewOn`` may be another view)."""
    by_name = {view.name: view for view in views}
    ordered: list[CollectionDump] = []
    placed: set[str] = set()

    def place(view: CollectionDump, path: tuple[str, ...]) -> None:
        if view.name in placed or view.name in path:
            return
        source = by_name.get(str(view.options.get("viewOn")))
        if source is not None:
            place(source, (*path, view.name))
        placed.add(view.name)
        ordered.append(view)

    for view in views:
        place(view, ())
    return ordered


def restore_folder(
    db: Database[Any], folder: Path, *, drop: bool = False, progress: Progress | None = None
) -> Totals:
    """Restore one database folder into ``db``.

    :raises RestoreConflictError: ``drop`` is false and a target collection holds documents,
        is a view or has other options than the dump's (checked before anything is written).
    :raises IncompleteRestoreError: something was not restored; everything else was.
    """
    progress = progress or Progress()
    started = time.monotonic()
    contents = read_dump(folder)
    for note in contents.notes:
        progress.info(note)
    kept = _check_targets(db, contents.collections, drop)
    failures = list(contents.problems)
    totals = Totals()
    collections = [dump for dump in contents.collections if not dump.is_view]
    for dump in collections:
        documents, nbytes = _restore_collection(
            db, dump, progress, failures, kept=dump.name in kept
        )
        progress.finish(dump.name, documents, nbytes)
        totals.add(documents, nbytes)
    for view in _view_order([dump for dump in contents.collections if dump.is_view]):
        try:
            db.command(SON([("create", view.name), *view.options.items()]))
        except OperationFailure as exc:
            failures.append(f"{view.name}: view not created ({_short(exc)})")
            continue
        progress.info(f"{view.name}: view created")
        totals.add(0, 0)
    totals.seconds = time.monotonic() - started
    if failures:
        raise IncompleteRestoreError(totals, failures)
    return totals


def restore_database(
    db: Database[Any], source: Path, *, drop: bool = False, progress: Progress | None = None
) -> Totals:
    """Restore what ``source`` designates (see :mod:`rainbond_kit.backup.source`) into ``db``.

    :raises BackupError: ``source`` holds no dump or several, or see :func:`restore_folder`.
    """
    progress = progress or Progress()
    with resolve_source(source) as resolved:
        if resolved.note:
            progress.info(resolved.note)
        if not resolved.folder.is_dir():
            raise BackupError(f"no dump found in {source}")
        return restore_folder(db, resolved.folder, drop=drop, progress=progress)
