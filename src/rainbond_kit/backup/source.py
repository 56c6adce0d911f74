"""What ``restore --from`` may name, resolved to the one database folder to restore.

Accepted, in this order of checks:

* a ``.tar.gz`` archive (what an upload sends): unpacked into a temporary directory,
  then resolved as below;
* a database folder (``<backup>/shop``, mongodump's ``dump/shop``): it holds dump files;
* a backup folder (``<out>/shop-20240501T...Z``, mongodump's ``dump``): exactly one
  database folder inside;
* a backup root (``--out`` of ``backup``): the newest ``<db>-<stamp>`` backup (or archive)
  in it, when they are all of one database; otherwise the choices are listed.
"""

from __future__ import annotations

import re
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rainbond_kit.backup.errors import BackupError
from rainbond_kit.backup.layout import STAMP_RE
from rainbond_kit.backup.reader import classify_file

__all__ = ["ResolvedSource", "resolve_source"]

_ARCHIVE = ".tar.gz"
_BACKUP_NAME = re.compile(rf"(?P<db>.+)-(?P<stamp>{STAMP_RE.pattern})(?:{re.escape(_ARCHIVE)})?")


@dataclass(frozen=True)
class ResolvedSource:
    """The database folder to restore and, when it was chosen for the user, why."""

    folder: Path
    note: str | None = None


def _holds_dump(path: Path) -> bool:
    return path.is_dir() and any(
        child.is_file() and classify_file(child.name) is not None for child in path.iterdir()
    )


def _database_folder(backup: Path) -> Path | None:
    """The one database folder of a backup folder; ``None`` if it holds none."""
    candidates = sorted(child for child in backup.iterdir() if _holds_dump(child))
    if len(candidates) > 1:
        names = ", ".join(child.name for child in candidates)
        raise BackupError(
            f"{backup} holds dumps of several databases ({names}): pass one of those folders"
        )
    return candidates[0] if candidates else None


def _newest_backup(root: Path) -> Path | None:
    found: dict[str, list[Path]] = {}
    for child in root.iterdir():
        match = _BACKUP_NAME.fullmatch(child.name)
        is_archive = child.name.endswith(_ARCHIVE) and child.is_file()
        if match and (child.is_dir() or is_archive):
            found.setdefault(match["db"], []).append(child)
    if not found:
        return None
    if len(found) > 1:
        choices = "; ".join(
            f"{db}: {len(paths)} backups, newest {max(p.name for p in paths)}"
            for db, paths in sorted(found.items())
        )
        raise BackupError(
            f"{root} holds backups of several databases ({choices}): pass one backup folder"
        )
    [paths] = found.values()
    return max(paths, key=lambda path: _BACKUP_NAME.fullmatch(path.name)["stamp"])  # type: ignore[index]  # every path matched above


def _unpack(archive: Path, into: Path) -> Path:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(into, filter="data")
            else:  # Python < 3.10.12: refuse what the "data" filter would refuse
                for member in tar.getmembers():
                    parts = Path(member.name).parts
                    if (
                        member.name.startswith("/")
                        or ".." in parts
                        or not (member.isfile() or member.isdir())
                    ):
                        raise BackupError(f"{archive.name}: unsafe member {member.name!r}")
                tar.extractall(into)  # noqa: S202 - every member was checked above
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"cannot unpack {archive.name}: {exc}") from None
    return into


def _resolve_dir(path: Path, note: str | None) -> ResolvedSource:
    if _holds_dump(path):
        return ResolvedSource(path, note)
    folder = _database_folder(path)
    if folder is not None:
        return ResolvedSource(folder, note)
    top = [child for child in path.iterdir() if child.is_dir()]
    if len(top) == 1 and note is not None:  # an archive's single top folder
        return _resolve_dir(top[0], note)
    raise BackupError(
        f"no dump found in {path} (expected <collection>.bson files, a backup folder, "
        "a folder of backups or a .tar.gz)"
    )


@contextmanager
def resolve_source(source: Path) -> Iterator[ResolvedSource]:
    """The database folder ``source`` designates; temporary files are removed on exit.

    :raises BackupError: nothing restorable, or a choice only the user can make.
    """
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if source.is_file():
        if not source.name.endswith(_ARCHIVE):
            raise BackupError(f"{source} is a file but not a .tar.gz archive")
        with tempfile.TemporaryDirectory(prefix="rainbond-kit-restore-") as tmp:
            yield _resolve_dir(_unpack(source, Path(tmp)), f"unpacked {source.name}")
        return
    if _holds_dump(source):
        yield ResolvedSource(source)
        return
    newest = None if _database_folder(source) else _newest_backup(source)
    if newest is None:
        yield _resolve_dir(source, None)
        return
    note = f"restoring the newest backup in {source}: {newest.name}"
    if newest.is_file():
        with tempfile.TemporaryDirectory(prefix="rainbond-kit-restore-") as tmp:
            yield _resolve_dir(_unpack(newest, Path(tmp)), note)
        return
    yield _resolve_dir(newest, note)
