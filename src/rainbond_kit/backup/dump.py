"""Stream a database to mongodump's directory layout, one collection at a time.

Documents are never decoded: the cursor yields :class:`~bson.raw_bson.RawBSONDocument`
and their raw bytes are appended to the ``.bson`` file in chunks, so memory holds one
cursor batch and one write buffer whatever the size of the database, and every BSON
type (Decimal128, int64, binary subtypes, regexes, ...) is kept byte for byte.

File names and metadata follow mongodump (``prepare.go``, ``metadata_dump.go``): stems
from :func:`~rainbond_kit.backup.names.collection_file_stem`, ``--gzip`` compresses both
files (``.bson.gz`` and ``.metadata.json.gz``), and the metadata is compact canonical
Extended JSON ``{"options", "indexes", "uuid", "collectionName"}`` (``options`` and
``uuid`` left out when empty), UTF-8 unescaped, as Go's ``bson.MarshalExtJSON`` writes it.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

from bson import json_util
from bson.binary import Binary
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from rainbond_kit.backup.layout import BSON_SUFFIX, GZIP_SUFFIX, METADATA_SUFFIX
from rainbond_kit.backup.names import collection_file_stem
from rainbond_kit.backup.progress import Progress, Totals

__all__ = ["RAW_CODEC_OPTIONS", "collection_metadata", "dump_database", "metadata_json"]

RAW_CODEC_OPTIONS: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)
#: Bytes gathered before each write to the file.
WRITE_CHUNK = 1 << 20
_SKIPPED_TYPES = {"timeseries"}


def collection_metadata(
    info: Mapping[str, Any], indexes: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """mongodump's ``<collection>.metadata.json`` document for one ``listCollections`` entry."""
    uuid = info.get("info", {}).get("uuid")
    if isinstance(uuid, UUID):
        uuid_hex = uuid.hex
    elif isinstance(uuid, Binary):
        uuid_hex = uuid.hex()
    else:
        uuid_hex = ""
    metadata: dict[str, Any] = {}
    if info.get("options"):
        metadata["options"] = info["options"]
    metadata["indexes"] = list(indexes)
    if uuid_hex:
        metadata["uuid"] = uuid_hex
    metadata["collectionName"] = info["name"]
    return metadata


def metadata_json(metadata: Mapping[str, Any]) -> bytes:
    """``metadata`` as mongodump writes it: compact canonical Extended JSON in UTF-8."""
    text = json_util.dumps(
        metadata,
        json_options=json_util.CANONICAL_JSON_OPTIONS,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return text.encode("utf-8")


def _open(path: Path, compress: bool) -> BinaryIO:
    if compress:
        return gzip.GzipFile(path, "wb", compresslevel=6)  # type: ignore[return-value]  # GzipFile is a binary file
    return path.open("wb")


def _dump_documents(
    db: Database[Any],
    name: str,
    path: Path,
    *,
    compress: bool,
    batch_size: int,
    progress: Progress,
    session: ClientSession | None,
) -> tuple[int, int]:
    collection = db.get_collection(name, codec_options=RAW_CODEC_OPTIONS)
    progress.start(name, collection.estimated_document_count())
    documents = written = 0
    buffer = bytearray()
    cursor = collection.find({}, batch_size=batch_size, session=session)
    with _open(path, compress) as fh, cursor:
        for document in cursor:
            buffer += document.raw
            documents += 1
            if len(buffer) >= WRITE_CHUNK:
                fh.write(buffer)
                written += len(buffer)
                buffer.clear()
                progress.advance(name, documents)
        fh.write(buffer)
        written += len(buffer)
    return documents, written


def _skipped(name: str, kind: str) -> bool:
    """mongodump's ``shouldSkipSystemNamespace`` for a user database, plus time series."""
    if name == "system.js":
        return False
    return name.startswith("system.") or "$" in name or kind in _SKIPPED_TYPES


def dump_database(
    db: Database[Any],
    dest: Path,
    *,
    compress: bool = False,
    batch_size: int = 1000,
    progress: Progress | None = None,
    session: ClientSession | None = None,
) -> Totals:
    """Write every collection of ``db`` to ``dest`` (created; it becomes ``<out>/<backup>/<db>``).

    System collections and time-series collections are skipped (the log says so); views
    are written as metadata only (their definition), as mongodump does. Byte counts are
    uncompressed BSON. With ``session`` (a snapshot session) every collection's documents
    are read at the session's one cluster time.
    """
    progress = progress or Progress()
    started = time.monotonic()
    dest.mkdir(parents=True, exist_ok=True)
    totals = Totals()
    gz = GZIP_SUFFIX if compress else ""
    infos = sorted(db.list_collections(), key=lambda info: str(info["name"]))
    for info in infos:
        name = str(info["name"])
        kind = info.get("type", "collection")
        if _skipped(name, kind):
            progress.info(f"skipping {kind} {name}")
            continue
        stem = collection_file_stem(name)
        indexes = list(db[name].list_indexes()) if kind == "collection" else []
        metadata = metadata_json(collection_metadata(info, indexes))
        with _open(dest / f"{stem}{METADATA_SUFFIX}{gz}", compress) as fh:
            fh.write(metadata)
        if kind != "collection":
            progress.info(f"{name}: {kind} definition saved")
            continue
        documents, written = _dump_documents(
            db,
            name,
            dest / f"{stem}{BSON_SUFFIX}{gz}",
            compress=compress,
            batch_size=batch_size,
            progress=progress,
            session=session,
        )
        progress.finish(name, documents, written)
        totals.add(documents, written)
    totals.seconds = time.monotonic() - started
    return totals
