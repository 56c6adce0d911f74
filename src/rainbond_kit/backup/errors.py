"""Errors of the backup tools; configuration problems use :class:`~rainbond_kit.errors.ConfigurationError`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rainbond_kit.errors import RainbondError

if TYPE_CHECKING:
    from rainbond_kit.backup.progress import Totals

__all__ = [
    "BackupError",
    "IncompleteRestoreError",
    "LockLostError",
    "RestoreConflictError",
    "UploadError",
]


class BackupError(RainbondError):
    """A backup or restore could not be completed (server unreachable, disk error, ...)."""


class UploadError(BackupError):
    """The finished backup could not be uploaded; the local copy is kept."""


class RestoreConflictError(BackupError):
    """The target collections already hold documents and ``--drop`` was not given."""


class LockLostError(BackupError):
    """Another replica took the backup lock over (its fencing token is newer); nothing was kept."""


class IncompleteRestoreError(BackupError):
    """Some of the dump could not be restored; everything else was. ``failures`` says what."""

    def __init__(self, totals: Totals, failures: list[str]) -> None:
        self.totals = totals
        self.failures = list(failures)
        lines = "\n".join(f"  - {failure}" for failure in self.failures)
        super().__init__(
            f"restore incomplete: {len(self.failures)} item(s) not restored "
            f"(restored {totals.describe()}):\n{lines}"
        )
