"""Restore a dump (ours or mongodump's directory layout) into a database, indexes included.

Documents are read with :func:`bson.decode_file_iter` as raw BSON and inserted in
batches, never decoded, so types survive byte for byte and memory stays flat. Target
collections that already hold documents are refused unless ``drop`` is true.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from bson import decode_file_iter, json_util
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel
from pymongo.database import Database

from rainbond_kit.backup.dump import RAW_CODEC_OPTIONS
from rainbond_kit.backup.errors import BackupError, RestoreConflictError
from rainbond_kit.backup.layout import BSON_SUFFIXES, METADATA_SUFFIX
from rainbond_kit.backup.progress import Progress, Totals

__all__ = ["CollectionDump", "find_dump_dir", "read_dump", "restore_database"]

#: Flush an insert batch at this many bytes (well under the 48 MB message limit).
BATCH_BYTES = 8 << 20
_INDEX_KEYS_NOT_OPTIONS = {"key", "v", "ns"}


@dataclass(frozen=True)
class CollectionDump:
    """One collection in a dump directory."""

    name: str
    metadata: dict[str, Any]
    data: Path | None

    @property
    def is_view(self) -> bool:
        """Whether the dump holds a view definition rather than documents."""
        return self.metadata.get("type") == "view" or "viewOn" in self.metadata.get("options", {})


def _stem(path: Path) -> str | None:
    for suffix in (METADATA_SUFFIX, *BSON_SUFFIXES):
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return None


def _holds_dump(path: Path) -> bool:
    return path.is_dir() and any(_stem(child) for child in path.iterdir() if child.is_file())


def find_dump_dir(source: Path) -> Path:
    """The directory holding the ``.bson`` files: ``source`` itself or its one database folder.

    :raises BackupError: ``source`` holds no dump, or dumps of several databases.
    """
    if _holds_dump(source):
        return source
    candidates = sorted(child for child in source.iterdir() if _holds_dump(child))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise BackupError(f"no dump found in {source} (expected <collection>.bson files)")
    names = ", ".join(child.name for child in candidates)
    raise BackupError(f"{source} holds dumps of several databases ({names}): pass one of them")


def read_dump(dump_dir: Path) -> list[CollectionDump]:
    """The collections of a dump directory, sorted by name; the metadata names them when present."""
    stems: dict[str, dict[str, Path]] = {}
    for child in dump_dir.iterdir():
        stem = _stem(child)
        if stem is not None and child.is_file():
            kind = "metadata" if child.name.endswith(METADATA_SUFFIX) else "data"
            stems.setdefault(stem, {})[kind] = child
    dumps = []
    for stem, files in stems.items():
        metadata: dict[str, Any] = {}
        if "metadata" in files:
            try:
                metadata = json_util.loads(files["metadata"].read_text(encoding="utf-8"))
            except ValueError as exc:
                raise BackupError(f"{files['metadata'].name} is not valid JSON: {exc}") from None
        name = str(metadata.get("collectionName") or _unescape(stem))
        dumps.append(CollectionDump(name, metadata, files.get("data")))
    return sorted(dumps, key=lambda dump: dump.name)


def _unescape(stem: str) -> str:
    return stem.replace("%2F", "/").replace("%5C", "\\").replace("%25", "%")


def _open(path: Path) -> BinaryIO:
    if path.name.endswith(".gz"):
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]  # GzipFile is a binary file
    return path.open("rb")


def _batches(path: Path) -> Iterator[tuple[list[RawBSONDocument], int]]:
    batch: list[RawBSONDocument] = []
    size = 0
    with _open(path) as fh:
        for document in decode_file_iter(fh, codec_options=RAW_CODEC_OPTIONS):
            batch.append(document)
            size += len(document.raw)
            if size >= BATCH_BYTES or len(batch) >= 1000:
                yield batch, size
                batch, size = [], 0
    if batch:
        yield batch, size


def _index_models(metadata: dict[str, Any]) -> list[IndexModel]:
    models = []
    for spec in metadata.get("indexes", []):
        if spec.get("name") == "_id_":
            continue
        options = {k: v for k, v in spec.items() if k not in _INDEX_KEYS_NOT_OPTIONS}
        models.append(IndexModel(list(spec["key"].items()), **options))
    return models


def _check_targets(db: Database[Any], dumps: list[CollectionDump], drop: bool) -> None:
    existing = set(db.list_collection_names())
    busy = [
        dump.name
        for dump in dumps
        if dump.name in existing
        and (dump.is_view or db[dump.name].find_one({}, projection={"_id": 1}) is not None)
    ]
    if busy and not drop:
        raise RestoreConflictError(
            f"database {db.name} already has data in {', '.join(busy)}: "
            "pass --drop to replace those collections"
        )
    if drop:
        for dump in dumps:
            if dump.name in existing:
                db.drop_collection(dump.name)


def _restore_one(db: Database[Any], dump: CollectionDump, progress: Progress) -> tuple[int, int]:
    options = dict(dump.metadata.get("options", {}))
    if dump.name not in db.list_collection_names():
        db.create_collection(dump.name, **options)
    documents = nbytes = 0
    if dump.data is not None and not dump.is_view:
        collection = db.get_collection(dump.name, codec_options=RAW_CODEC_OPTIONS)
        progress.start(dump.name)
        for batch, size in _batches(dump.data):
            collection.insert_many(batch, ordered=True)
            documents += len(batch)
            nbytes += size
            progress.advance(dump.name, documents)
    models = _index_models(dump.metadata)
    if models:
        db[dump.name].create_indexes(models)
    return documents, nbytes


def restore_database(
    db: Database[Any], source: Path, *, drop: bool = False, progress: Progress | None = None
) -> Totals:
    """Restore the dump at ``source`` into ``db``.

    :param source: a backup directory (``<out>/<backup>``) or its database folder.
    :raises RestoreConflictError: a target collection holds documents and ``drop`` is false.
    :raises BackupError: the dump is missing or malformed.
    """
    progress = progress or Progress()
    started = time.monotonic()
    dumps = read_dump(find_dump_dir(source))
    _check_targets(db, dumps, drop)
    totals = Totals()
    for dump in dumps:
        documents, nbytes = _restore_one(db, dump, progress)
        progress.finish(dump.name, documents, nbytes)
        totals.add(documents, nbytes)
    totals.seconds = time.monotonic() - started
    return totals
