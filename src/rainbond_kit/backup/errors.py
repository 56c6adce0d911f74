"""Errors of the backup tools; configuration problems use :class:`~rainbond_kit.errors.ConfigurationError`."""

from __future__ import annotations

from rainbond_kit.errors import RainbondError

__all__ = ["BackupError", "RestoreConflictError", "UploadError"]


class BackupError(RainbondError):
    """A backup or restore could not be completed (server unreachable, disk error, ...)."""


class UploadError(BackupError):
    """The finished backup could not be uploaded; the local copy is kept."""


class RestoreConflictError(BackupError):
    """The target collections already hold documents and ``--drop`` was not given."""
