"""Backup configuration: variables, flag overrides and one-line errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from rainbond_kit.backup.config import BackupConfig, check_database_name, mongo_settings
from rainbond_kit.errors import ConfigurationError

SEED_ENV = {
    "MONGODB_HOST": "127.0.0.1",
    "MONGODB_PORT": "27017",
    "MONGODB_DB": "shop",
    "FILE_DIR": "shop-backups",
    "URL": "http://storage:8080/upload",
}


def test_seed_plugin_variables() -> None:
    """The seed plugin's variables fill the config; FILE_DIR is both the local dir and the upload field."""
    config = BackupConfig.from_env(SEED_ENV)
    assert config.mongo.uri == "mongodb://127.0.0.1:27017/"
    assert config.database == "shop"
    assert config.out == Path("shop-backups")
    assert config.file_dir == "shop-backups"
    assert config.url == "http://storage:8080/upload"
    assert (config.keep, config.gzip, config.upload_retries) == (7, False, 3)
    assert config.mongo.server_selection_timeout_ms == 3000


def test_flags_beat_variables() -> None:
    """--db, --out, --keep and --gzip override MONGODB_DB, FILE_DIR, BACKUP_KEEP and BACKUP_GZIP."""
    env = {**SEED_ENV, "BACKUP_KEEP": "3", "BACKUP_GZIP": "true"}
    config = BackupConfig.from_env(env, database="other", out=Path("x"), keep=1, gzip=False)
    assert (config.database, config.out, config.keep, config.gzip) == ("other", Path("x"), 1, False)
    assert BackupConfig.from_env(env).keep == 3
    assert BackupConfig.from_env(env).gzip is True


def test_database_from_uri_and_default_out() -> None:
    """Without MONGODB_DB the URI's database is used; without FILE_DIR backups go to ./backups."""
    config = BackupConfig.from_env({"MONGODB_URI": "mongodb://db.example:27017/books"})
    assert config.database == "books"
    assert config.out == Path("backups")
    assert config.url is None


def test_unset_database_is_an_error() -> None:
    """No --db, MONGODB_DB or database in the URI: the error names MONGODB_DB."""
    with pytest.raises(ConfigurationError, match=r"^MONGODB_DB is not set"):
        BackupConfig.from_env({"MONGODB_HOST": "127.0.0.1"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BACKUP_KEEP": "many"}, "BACKUP_KEEP must be an integer, got 'many'"),
        ({"BACKUP_KEEP": "-1"}, "BACKUP_KEEP must be >= 0, got '-1'"),
        ({"BACKUP_GZIP": "maybe"}, "BACKUP_GZIP must be true or false, got 'maybe'"),
        ({"BACKUP_UPLOAD_BACKOFF": "soon"}, "BACKUP_UPLOAD_BACKOFF must be a number, got 'soon'"),
        (
            {"URL": "ftp://storage/up"},
            "URL must be an http:// or https:// address, got 'ftp://storage/up'",
        ),
        (
            {"MONGODB_DB": "../etc"},
            "MONGODB_DB is not a valid database name (contains './'): '../etc'",
        ),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    """Each malformed variable gives one ConfigurationError naming it."""
    with pytest.raises(ConfigurationError) as info:
        BackupConfig.from_env({**SEED_ENV, **env})
    assert str(info.value) == message


def test_url_password_is_redacted_in_errors() -> None:
    """A bad URL with credentials is reported without its password."""
    with pytest.raises(ConfigurationError) as info:
        BackupConfig.from_env({**SEED_ENV, "URL": "ftp://u:secret@storage/up"})
    assert "secret" not in str(info.value)


def test_database_name_rules() -> None:
    """Database names become directory names: separators, dots and over-long names are refused."""
    assert check_database_name("商店_1-a", "--db") == "商店_1-a"
    for bad in ("", "a/b", "a.b", "a\\b", "x" * 64):
        with pytest.raises(ConfigurationError, match=r"^--db is not a valid database name"):
            check_database_name(bad, "--db")


def test_explicit_timeout_is_kept() -> None:
    """MONGODB_TIMEOUT_MS, when set, wins over the 3 s default."""
    assert mongo_settings({"MONGODB_TIMEOUT_MS": "700"}).server_selection_timeout_ms == 700


def test_snapshot_lock_and_redis_variables() -> None:
    """BACKUP_SNAPSHOT (flag beats it), BACKUP_LOCK_TTL, and Redis only when a variable names one."""
    config = BackupConfig.from_env(SEED_ENV)
    assert (config.snapshot, config.redis, config.lock_ttl) == (False, None, 21600)
    env = {
        **SEED_ENV,
        "BACKUP_SNAPSHOT": "yes",
        "BACKUP_LOCK_TTL": "900",
        "REDIS_HOST": "redis-6379",
        "REDIS_PASSWORD": "s3cret",
    }
    config = BackupConfig.from_env(env)
    assert (config.snapshot, config.lock_ttl) == (True, 900)
    assert config.redis is not None
    assert config.redis.url == "redis://:s3cret@redis-6379:6379/0"
    assert BackupConfig.from_env(env, snapshot=False).snapshot is False
    with pytest.raises(ConfigurationError, match=r"^BACKUP_SNAPSHOT must be true or false"):
        BackupConfig.from_env({**SEED_ENV, "BACKUP_SNAPSHOT": "maybe"})
    with pytest.raises(ConfigurationError, match=r"^BACKUP_LOCK_TTL must be a number"):
        BackupConfig.from_env({**SEED_ENV, "BACKUP_LOCK_TTL": "soon"})
