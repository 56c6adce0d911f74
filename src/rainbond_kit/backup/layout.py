"""Where backups live on disk: names, mongodump's directory layout, retention.

A backup of database ``shop`` taken at 2024-05-01 02:00:00.123456 UTC is the directory
``<out>/shop-20240501T020000.123456Z/shop/`` holding ``<collection>.bson`` (or
``.bson.gz``) and ``<collection>.metadata.json`` (``.metadata.json.gz``) per collection
(file names from :mod:`rainbond_kit.backup.names`): exactly what
``mongodump --out <out>/shop-...Z --db shop`` writes, so ``mongorestore`` reads it too.
It is written under a hidden ``.partial`` name and renamed when complete, so a crashed
run never looks like a backup.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

__all__ = [
    "BSON_SUFFIX",
    "GZIP_SUFFIX",
    "METADATA_SUFFIX",
    "STAMP_RE",
    "backup_name",
    "list_backups",
    "new_backup_dir",
    "prune_backups",
]

METADATA_SUFFIX = ".metadata.json"
BSON_SUFFIX = ".bson"
#: Appended to both file names with ``--gzip``, as mongodump's ``nameGz`` does.
GZIP_SUFFIX = ".gz"
_STAMP = "%Y%m%dT%H%M%S.%fZ"
#: The time stamp part of a backup name.
STAMP_RE = re.compile(r"\d{8}T\d{6}\.\d{6}Z")


def backup_name(database: str, when: datetime | None = None) -> str:
    """The directory name of a backup of ``database`` taken at ``when`` (default: now, UTC)."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{database}-{when.strftime(_STAMP)}"


def new_backup_dir(out: Path, database: str) -> Path:
    """A fresh, not yet existing backup directory path under ``out``."""
    when = datetime.now(timezone.utc)
    while (out / backup_name(database, when)).exists():
        when += timedelta(microseconds=1)
    return out / backup_name(database, when)


def list_backups(out: Path, database: str) -> list[Path]:
    """Completed backups of ``database`` under ``out``, oldest first."""
    if not out.is_dir():
        return []
    prefix = f"{database}-"
    found = [
        path
        for path in out.iterdir()
        if path.is_dir()
        and path.name.startswith(prefix)
        and STAMP_RE.fullmatch(path.name[len(prefix) :])
    ]
    return sorted(found, key=lambda path: path.name)


def prune_backups(out: Path, database: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``database`` (0 keeps all); return the deleted."""
    if keep <= 0:
        return []
    doomed = list_backups(out, database)[:-keep]
    for path in doomed:
        shutil.rmtree(path)
    return doomed
