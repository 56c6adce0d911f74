"""One backup run: connect, dump, rename into place, upload, prune."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymongo
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from rainbond_kit.backup.archive import make_archive
from rainbond_kit.backup.config import BackupConfig
from rainbond_kit.backup.consistency import cluster_time, snapshot_session
from rainbond_kit.backup.dump import dump_database
from rainbond_kit.backup.errors import BackupError
from rainbond_kit.backup.layout import new_backup_dir, prune_backups
from rainbond_kit.backup.progress import Progress, Totals
from rainbond_kit.backup.upload import upload_archive
from rainbond_kit.settings import MongoSettings

__all__ = ["BackupResult", "mongo_client", "run_backup"]


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: where it is, what it holds, what retention removed."""

    path: Path
    totals: Totals
    uploaded: bool
    pruned: tuple[Path, ...]


def _short(exc: PyMongoError) -> str:
    return str(exc).split(", full error:")[0].splitlines()[0]


@contextmanager
def mongo_client(settings: MongoSettings) -> Iterator[pymongo.MongoClient[dict[str, Any]]]:
    """A client that has answered a ``ping``; closed on exit; driver errors become project errors.

    :raises BackupError: the server cannot be reached or refuses the credentials.
    """
    seconds = settings.server_selection_timeout_ms / 1000
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        settings.uri,
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
        connectTimeoutMS=settings.server_selection_timeout_ms,
        appname="rainbond-kit-backup",
    )
    try:
        try:
            client.admin.command("ping")
        except ConnectionFailure:
            raise BackupError(
                f"cannot reach MongoDB server {settings.redacted_uri} (no answer within {seconds:g} s)"
            ) from None
        except OperationFailure as exc:
            raise BackupError(f"MongoDB server {settings.redacted_uri}: {_short(exc)}") from None
        try:
            yield client
        except PyMongoError as exc:
            raise BackupError(f"MongoDB error: {_short(exc)}") from None
    finally:
        client.close()


def run_backup(
    config: BackupConfig,
    progress: Progress | None = None,
    *,
    before_commit: Callable[[], None] | None = None,
) -> BackupResult:
    """Take one backup as ``config`` says; the local copy is kept even if the upload fails.

    :param before_commit: called right before the finished dump is renamed into place
        (the replicas' lock checks its fencing token there); raising discards the dump.
    :raises BackupError: the dump failed (nothing is left behind) or the upload failed
        (:class:`~rainbond_kit.backup.errors.UploadError`; the dump is kept and retention ran).
    """
    progress = progress or Progress()
    final = new_backup_dir(config.out, config.database)
    partial = final.with_name(f".{final.name}.partial")
    try:
        with mongo_client(config.mongo) as client, ExitStack() as stack:
            session = None
            if config.snapshot:
                session = stack.enter_context(snapshot_session(client, config.mongo.redacted_uri))
            mode = "snapshot" if session is not None else "not point-in-time"
            progress.info(f"backup of {config.database} started ({mode}) -> {final}")
            totals = dump_database(
                client[config.database],
                partial / config.database,
                compress=config.gzip,
                batch_size=config.batch_size,
                progress=progress,
                session=session,
            )
            if session is not None:
                progress.info(f"all collections read at cluster time {cluster_time(session)}")
        if before_commit is not None:
            before_commit()
        os.replace(partial, final)
    except OSError as exc:
        raise BackupError(
            f"cannot write the backup to {config.out}: {exc.strerror or exc}"
        ) from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    progress.info(f"backup done: {totals.describe()} -> {final}")
    uploaded = False
    try:
        if config.url:
            _upload(config, final, progress)
            uploaded = True
    finally:
        pruned = tuple(prune_backups(config.out, config.database, config.keep))
        for path in pruned:
            progress.info(f"retention: removed {path.name}")
    return BackupResult(final, totals, uploaded, pruned)


def _upload(config: BackupConfig, backup: Path, progress: Progress) -> None:
    assert config.url is not None
    archive = make_archive(backup)
    try:
        status = upload_archive(
            archive,
            config.url,
            file_dir=config.file_dir,
            retries=config.upload_retries,
            backoff=config.upload_backoff,
            timeout=config.upload_timeout,
        )
    finally:
        archive.unlink(missing_ok=True)
    progress.info(f"uploaded {archive.name} ({status})")
