"""``rainbond-kit backup`` and ``rainbond-kit restore``.

Errors end the command with one line on stderr and no traceback: exit status 2 for a
configuration problem (the message names the variable or flag), 1 for a failed run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import click
import redis
from apscheduler.schedulers.blocking import BlockingScheduler

from rainbond_kit.backup.config import BackupConfig, check_database_name, mongo_settings
from rainbond_kit.backup.lock import BackupLock, latest_fire_time, run_locked
from rainbond_kit.backup.progress import Progress
from rainbond_kit.backup.restore import restore_database
from rainbond_kit.backup.runner import mongo_client, run_backup
from rainbond_kit.backup.schedule import build_trigger, run_scheduled
from rainbond_kit.errors import ConfigurationError, RainbondError
from rainbond_kit.redis_client import connect_redis

__all__ = ["backup", "restore"]

T = TypeVar("T")


class _Failure(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


def _guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except ConfigurationError as exc:
        raise _Failure(str(exc), 2) from None
    except RainbondError as exc:
        raise _Failure(str(exc), 1) from None


@click.command()
@click.option("--db", "database", metavar="NAME", help="Database to back up [env: MONGODB_DB].")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for backups [env: FILE_DIR; default: ./backups].",
)
@click.option(
    "--once", is_flag=True, help="Take one backup and exit (default: run on the schedule)."
)
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    help="Keep the newest N local backups, 0 keeps all [env: BACKUP_KEEP; default: 7].",
)
@click.option(
    "--gzip/--no-gzip",
    default=None,
    help="Write .bson.gz and .metadata.json.gz files [env: BACKUP_GZIP].",
)
@click.option(
    "--snapshot/--no-snapshot",
    default=None,
    help="Read all collections at one cluster time (replica sets, MongoDB 5.0+) "
    "[env: BACKUP_SNAPSHOT].",
)
def backup(
    database: str | None,
    out: Path | None,
    once: bool,
    keep: int | None,
    gzip: bool | None,
    snapshot: bool | None,
) -> None:
    """Back up a MongoDB database in mongodump's layout; upload it when URL is set.

    Without --once it runs on the cron schedule of DAY, DAY_OF_WEEK, HOUR, MINUTE and
    SECOND (default: daily at 03:00 UTC) until SIGTERM, which lets a running backup finish.
    With REDIS_URL or REDIS_HOST set, replicas share a lock so one of them takes each backup.
    """
    env = os.environ
    config = _guarded(
        lambda: BackupConfig.from_env(
            env, database=database, out=out, keep=keep, gzip=gzip, snapshot=snapshot
        )
    )
    progress = Progress()
    if once:
        result = _guarded(lambda: run_backup(config, progress))
        click.echo(f"{result.path}: {result.totals.describe()}")
        return
    trigger = _guarded(lambda: build_trigger(env))

    def check_server() -> None:
        with mongo_client(config.mongo):
            pass

    _guarded(check_server)

    lock = _lock(config, progress)

    def job() -> None:
        try:
            if lock is None:
                run_backup(config, progress)
                return
            fire = latest_fire_time(trigger, datetime.now(timezone.utc))
            run_locked(
                lock,
                fire,
                lambda check: run_backup(config, progress, before_commit=check),
                progress.info,
            )
        except RainbondError as exc:
            progress.info(f"backup failed: {exc}")

    def announce(scheduler: BlockingScheduler) -> None:
        next_run: datetime | None = scheduler.get_job("backup").next_run_time
        progress.info(f"backup of {config.database} scheduled ({trigger}); next run {next_run}")

    run_scheduled(job, trigger, on_start=announce)
    progress.info("backup scheduler stopped")


def _lock(config: BackupConfig, progress: Progress) -> BackupLock | None:
    if config.redis is None:
        progress.info(
            "no Redis configured (REDIS_URL/REDIS_HOST): every replica running this "
            "scheduler takes its own backups"
        )
        return None
    try:
        client = connect_redis(config.redis, decode_responses=False)
        client.ping()
    except redis.RedisError as exc:
        raise _Failure(f"cannot reach Redis {config.redis.redacted_url} ({exc})", 1) from None
    progress.info(f"replicas share the backup lock in Redis {config.redis.redacted_url}")
    return BackupLock(client, config.database, ttl_ms=int(config.lock_ttl * 1000))


@click.command()
@click.option("--db", "database", required=True, metavar="TARGET", help="Database to restore into.")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A backup folder, its database folder, a folder of backups (the newest is "
    "restored) or a .tar.gz; ours or mongodump's.",
)
@click.option(
    "--drop", is_flag=True, help="Replace target collections that already hold documents."
)
def restore(database: str, source: Path, drop: bool) -> None:
    """Restore a backup into database TARGET, options, indexes and views included.

    Exits 1 listing everything that could not be restored (after restoring the rest).
    Connection settings come from MONGODB_URI or MONGODB_HOST/PORT/USER/PASSWORD.
    """
    env = os.environ

    def run() -> str:
        target = check_database_name(database, "--db")
        settings = mongo_settings(env)
        progress = Progress()
        with mongo_client(settings) as client:
            totals = restore_database(client[target], source, drop=drop, progress=progress)
        return f"restored into {target}: {totals.describe()}"

    click.echo(_guarded(run))
