"""Backup directory names, retention and collection file names."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from rainbond_kit.backup.layout import (
    backup_name,
    list_backups,
    new_backup_dir,
    prune_backups,
)


def _at(second: int) -> datetime:
    return datetime(2024, 5, 1, 2, 0, second, 5, tzinfo=timezone.utc)


def _make(out: Path, database: str, second: int) -> Path:
    path = out / backup_name(database, _at(second))
    (path / database).mkdir(parents=True)
    return path


def test_backup_name_is_sortable_utc() -> None:
    """Names are <db>-<UTC stamp with microseconds>, so name order is time order."""
    when = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=timezone.utc)
    assert backup_name("shop", when) == "shop-20240501T100000.123456Z"


def test_prune_keeps_exactly_the_newest_n(tmp_path: Path) -> None:
    """Retention deletes the oldest backups of that database only, never partial or foreign dirs."""
    mine = [_make(tmp_path, "shop", s) for s in (5, 1, 3, 4, 2)]
    other = _make(tmp_path, "shop-eu", 0)
    partial = tmp_path / f".{backup_name('shop')}.partial"
    partial.mkdir()
    deleted = prune_backups(tmp_path, "shop", 2)
    assert [p.name for p in deleted] == [backup_name("shop", _at(s)) for s in (1, 2, 3)]
    assert list_backups(tmp_path, "shop") == sorted(mine)[-2:]
    assert other.is_dir()
    assert partial.is_dir()


def test_keep_zero_keeps_all(tmp_path: Path) -> None:
    """--keep 0 disables retention."""
    for s in range(3):
        _make(tmp_path, "shop", s)
    assert prune_backups(tmp_path, "shop", 0) == []
    assert len(list_backups(tmp_path, "shop")) == 3


def test_new_backup_dir_never_collides(tmp_path: Path) -> None:
    """Two backups in the same microsecond still get distinct directories."""
    first = new_backup_dir(tmp_path, "shop")
    first.mkdir()
    assert new_backup_dir(tmp_path, "shop") != first


def test_missing_out_dir_lists_nothing(tmp_path: Path) -> None:
    """An out directory that does not exist yet has no backups."""
    assert list_backups(tmp_path / "nope", "shop") == []
