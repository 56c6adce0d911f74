"""MongoDB backup and restore: ``rainbond-kit backup`` / ``rainbond-kit restore``.

Backups use mongodump's directory layout (``mongorestore`` reads them), stream
collection by collection in constant memory, run on an APScheduler cron schedule, and
are optionally uploaded as a ``.tar.gz`` to a storage service. See ``docs/backup.md``.
"""

from __future__ import annotations

from rainbond_kit.backup.archive import make_archive
from rainbond_kit.backup.config import BackupConfig
from rainbond_kit.backup.dump import collection_metadata, dump_database
from rainbond_kit.backup.errors import BackupError, RestoreConflictError, UploadError
from rainbond_kit.backup.layout import list_backups, prune_backups
from rainbond_kit.backup.progress import Progress, Totals
from rainbond_kit.backup.restore import restore_database
from rainbond_kit.backup.runner import BackupResult, run_backup
from rainbond_kit.backup.schedule import build_trigger, run_scheduled
from rainbond_kit.backup.upload import upload_archive

__all__ = [
    "BackupConfig",
    "BackupError",
    "BackupResult",
    "Progress",
    "RestoreConflictError",
    "Totals",
    "UploadError",
    "build_trigger",
    "collection_metadata",
    "dump_database",
    "list_backups",
    "make_archive",
    "prune_backups",
    "restore_database",
    "run_backup",
    "run_scheduled",
    "upload_archive",
]
