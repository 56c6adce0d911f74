"""What ``rainbond-kit backup`` reads from the environment (and flags), checked once."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from rainbond_kit.env import flag as _flag
from rainbond_kit.env import number as _number
from rainbond_kit.env import text as _text
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.settings import (
    MongoSettings,
    RedisSettings,
    check_database_name,
    named_database,
    redact_url,
)

__all__ = [
    "DEFAULT_KEEP",
    "DEFAULT_OUT",
    "BackupConfig",
    "check_database_name",
    "mongo_settings",
]

DEFAULT_OUT = "backups"
DEFAULT_KEEP = 7
#: Server selection timeout when ``MONGODB_TIMEOUT_MS`` is not set: fail fast.
DEFAULT_TIMEOUT_MS = 3000
#: Seconds the replicas' backup lock lives unless released (``BACKUP_LOCK_TTL``).
DEFAULT_LOCK_TTL = 6 * 3600


def _database(env: Mapping[str, str], mongo: MongoSettings, flag: str | None) -> str:
    if flag:
        return check_database_name(flag, "--db")
    named = named_database(env, mongo.uri)  # checked there
    if named is not None:
        return named[1]
    raise ConfigurationError("MONGODB_DB is not set: name the database to back up (or pass --db)")


def _url(env: Mapping[str, str]) -> str | None:
    url = _text(env, "URL")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError(
            f"URL must be an http:// or https:// address, got {redact_url(url)!r}"
        )
    return url


def mongo_settings(env: Mapping[str, str]) -> MongoSettings:
    """The foundation's Mongo settings, with a 3 s server timeout unless ``MONGODB_TIMEOUT_MS`` is set."""
    mongo = MongoSettings.from_env(env)
    if not _text(env, "MONGODB_TIMEOUT_MS"):
        mongo = dataclasses.replace(mongo, server_selection_timeout_ms=DEFAULT_TIMEOUT_MS)
    return mongo


@dataclass(frozen=True)
class BackupConfig:
    """Everything a backup run needs; build it with :meth:`from_env`."""

    mongo: MongoSettings
    database: str
    out: Path
    keep: int = DEFAULT_KEEP
    gzip: bool = False
    url: str | None = None
    file_dir: str = ""
    upload_retries: int = 3
    upload_backoff: float = 1.0
    upload_timeout: float = 60.0
    batch_size: int = 1000
    snapshot: bool = False
    #: Redis for the replicas' lock; ``None`` when no ``REDIS_*`` variable names one.
    redis: RedisSettings | None = None
    lock_ttl: float = DEFAULT_LOCK_TTL

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        database: str | None = None,
        out: Path | None = None,
        keep: int | None = None,
        gzip: bool | None = None,
        snapshot: bool | None = None,
    ) -> BackupConfig:
        """Read the variables (see ``docs/backup.md``); explicit arguments beat them.

        :raises ConfigurationError: a value is missing or malformed; the message names it.
        """
        mongo = mongo_settings(env)
        file_dir = _text(env, "FILE_DIR")
        redis = RedisSettings.from_env(env)
        return cls(
            mongo=mongo,
            database=_database(env, mongo, database),
            out=out if out is not None else Path(file_dir or DEFAULT_OUT),
            keep=keep
            if keep is not None
            else int(_number(env, "BACKUP_KEEP", DEFAULT_KEEP, integer=True)),
            gzip=gzip if gzip is not None else _flag(env, "BACKUP_GZIP"),
            url=_url(env),
            file_dir=file_dir,
            upload_retries=int(_number(env, "BACKUP_UPLOAD_RETRIES", 3, integer=True)),
            upload_backoff=_number(env, "BACKUP_UPLOAD_BACKOFF", 1.0),
            upload_timeout=_number(env, "BACKUP_UPLOAD_TIMEOUT", 60.0) or 60.0,
            batch_size=int(_number(env, "BACKUP_BATCH_SIZE", 1000, integer=True)) or 1000,
            snapshot=snapshot if snapshot is not None else _flag(env, "BACKUP_SNAPSHOT"),
            redis=redis if redis.configured else None,
            lock_ttl=_number(env, "BACKUP_LOCK_TTL", DEFAULT_LOCK_TTL) or DEFAULT_LOCK_TTL,
        )
