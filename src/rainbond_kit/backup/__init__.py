"""MongoDB backup and restore: ``rainbond-kit backup`` / ``rainbond-kit restore``.

Backups use mongodump's directory layout and file naming (``mongorestore`` reads them;
``restore`` reads mongodump's), stream collection by collection in constant memory, run
on an APScheduler cron schedule (one replica per trigger when Redis is configured), can
read every collection at one cluster time (``--snapshot``), and are optionally uploaded
as a ``.tar.gz`` to a storage service. See ``docs/backup.md``.
"""

from __future__ import annotations

from rainbond_kit.backup.archive import make_archive
from rainbond_kit.backup.config import BackupConfig
from rainbond_kit.backup.dump import collection_metadata, dump_database
from rainbond_kit.backup.errors import (
    BackupError,
    IncompleteRestoreError,
    LockLostError,
    RestoreConflictError,
    UploadError,
)
from rainbond_kit.backup.layout import list_backups, prune_backups
from rainbond_kit.backup.lock import BackupLock
from rainbond_kit.backup.names import collection_file_stem
from rainbond_kit.backup.progress import Progress, Totals
from rainbond_kit.backup.reader import read_dump
from rainbond_kit.backup.restore import restore_database, restore_folder
from rainbond_kit.backup.runner import BackupResult, run_backup
from rainbond_kit.backup.schedule import build_trigger, run_scheduled
from rainbond_kit.backup.upload import upload_archive

__all__ = [
    "BackupConfig",
    "BackupError",
    "BackupLock",
    "BackupResult",
    "IncompleteRestoreError",
    "LockLostError",
    "Progress",
    "RestoreConflictError",
    "Totals",
    "UploadError",
    "build_trigger",
    "collection_file_stem",
    "collection_metadata",
    "dump_database",
    "list_backups",
    "make_archive",
    "prune_backups",
    "read_dump",
    "restore_database",
    "restore_folder",
    "run_backup",
    "run_scheduled",
    "upload_archive",
]
