"""Read one database folder of a dump (ours or mongodump's) the way mongorestore does.

Rules follow ``mongorestore/filepath.go`` (``CreateIntentsForDB``, ``getInfoFromFile``):
``<stem>.bson`` / ``<stem>.metadata.json``, each optionally ``.gz`` (both layouts are read
whatever ``--gzip`` said, and a plain metadata file beside a ``.bson.gz`` too); stems are
unescaped (:mod:`rainbond_kit.backup.names`), a truncated stem takes its name from the
metadata; ``system.profile`` is skipped, and so is ``system.indexes`` when metadata files
exist. Everything this tool cannot restore is collected in :attr:`DumpContents.problems`
instead of being skipped quietly.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import SON, json_util
from bson.json_util import JSONOptions

from rainbond_kit.backup.layout import BSON_SUFFIX, GZIP_SUFFIX, METADATA_SUFFIX
from rainbond_kit.backup.names import is_truncated_stem, unescape_collection_name

__all__ = ["CollectionDump", "DumpContents", "classify_file", "read_dump", "read_metadata"]

_SUFFIXES = (
    (METADATA_SUFFIX + GZIP_SUFFIX, "metadata"),
    (METADATA_SUFFIX, "metadata"),
    (BSON_SUFFIX + GZIP_SUFFIX, "data"),
    (BSON_SUFFIX, "data"),
    (".bin", "data"),  # mongorestore still reads this legacy suffix
)
_JSON_OPTIONS = JSONOptions(document_class=SON)  # keeps index key order
_TIMESERIES_PREFIX = "system.buckets."


@dataclass(frozen=True)
class CollectionDump:
    """One collection (or view) of a dump: its name, metadata document and data file."""

    name: str
    metadata: Mapping[str, Any]
    data: Path | None

    @property
    def options(self) -> SON[str, Any]:
        """The ``create`` options (capped, validator, collation, viewOn/pipeline, ...)."""
        return SON(self.metadata.get("options") or {})

    @property
    def indexes(self) -> list[SON[str, Any]]:
        """The index specifications, ``_id_`` included, in dump order."""
        return [SON(spec) for spec in self.metadata.get("indexes") or []]

    @property
    def is_view(self) -> bool:
        """Whether this is a view definition rather than a collection."""
        return self.metadata.get("type") == "view" or "viewOn" in self.options


@dataclass
class DumpContents:
    """What a database folder holds: restorable collections, and what cannot be restored."""

    collections: list[CollectionDump] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_metadata(path: Path) -> SON[str, Any]:
    """Parse a ``.metadata.json`` (or ``.gz``) file: Extended JSON, canonical or relaxed.

    :raises ValueError: not gzip when named so, not UTF-8, or not an Extended JSON object.
    """
    raw = path.read_bytes()
    if path.name.endswith(GZIP_SUFFIX):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"not a gzip file ({exc})") from None
    document = json_util.loads(raw.decode("utf-8"), json_options=_JSON_OPTIONS)
    if not isinstance(document, Mapping):
        raise ValueError("not a JSON object")
    return SON(document)


def classify_file(name: str) -> tuple[str, str] | None:
    """``(stem, "metadata" | "data")`` for a dump file name, ``None`` for anything else."""
    for suffix, kind in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], kind
    return None


def _collection_name(stem: str, metadata: Mapping[str, Any] | None) -> str:
    """mongorestore's rule: the file name names the collection, unless it was truncated.

    ``+`` means ``+`` to current mongorestore (``PathUnescape``) and a space to older ones
    (``QueryUnescape``); the metadata's ``collectionName`` settles which when it matches one.
    """
    recorded = str((metadata or {}).get("collectionName") or "")
    if is_truncated_stem(stem):
        if not recorded:
            raise ValueError("truncated file name and no collectionName in its metadata")
        return recorded
    literal = unescape_collection_name(stem)
    if recorded and recorded == unescape_collection_name(stem, plus_is_space=True):
        return recorded
    return literal


def _group(folder: Path, contents: DumpContents) -> dict[str, dict[str, Path]]:
    stems: dict[str, dict[str, Path]] = {}
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        kind = classify_file(child.name) if child.is_file() else None
        if kind is None:
            what = "subdirectory" if child.is_dir() else "file"
            contents.problems.append(f"{what} {child.name}: not a dump file, not restored")
            continue
        stem, part = kind
        if part in stems.get(stem, {}):
            contents.problems.append(f"{child.name}: a second {part} file for {stem}")
            continue
        stems.setdefault(stem, {})[part] = child
    return stems


def _one(stem: str, files: dict[str, Path], contents: DumpContents, has_metadata: bool) -> None:
    label = stem
    metadata: SON[str, Any] | None = None
    try:
        if "metadata" in files:
            label = files["metadata"].name
            metadata = read_metadata(files["metadata"])
        name = _collection_name(stem, metadata)
    except ValueError as exc:
        contents.problems.append(f"{label}: {exc}")
        return
    dump = CollectionDump(name, metadata or SON(), files.get("data"))
    if name.startswith("$"):
        contents.problems.append(f"{name}: users and roles are not restored by rainbond-kit")
    elif name == "system.profile" or (name == "system.indexes" and has_metadata):
        contents.notes.append(f"skipping {name} (mongorestore skips it too)")
    elif name.startswith(_TIMESERIES_PREFIX) or "timeseries" in dump.options:
        contents.problems.append(f"{name}: time-series collections are not restored")
    elif name.startswith("system."):
        contents.problems.append(f"{name}: system collections are not restored")
    else:
        contents.collections.append(dump)


def read_dump(folder: Path) -> DumpContents:
    """The collections of a database folder, sorted by name, and everything left out.

    Never raises for a malformed entry: it becomes a line in ``problems``.
    """
    contents = DumpContents()
    stems = _group(folder, contents)
    has_metadata = any("metadata" in files for files in stems.values())
    for stem, files in stems.items():
        _one(stem, files, contents, has_metadata)
    seen: dict[str, int] = {}
    for dump in contents.collections:
        seen[dump.name] = seen.get(dump.name, 0) + 1
    for name in sorted(n for n, count in seen.items() if count > 1):
        contents.problems.append(f"{name}: several files name this collection, none restored")
    contents.collections = sorted(
        (d for d in contents.collections if seen[d.name] == 1), key=lambda d: d.name
    )
    return contents
