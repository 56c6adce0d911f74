"""Reading a database folder by mongorestore's rules, and choosing what --from designates."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from bson import encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rainbond_kit.backup.archive import make_archive
from rainbond_kit.backup.errors import BackupError
from rainbond_kit.backup.layout import backup_name
from rainbond_kit.backup.reader import read_dump
from rainbond_kit.backup.source import resolve_source
from tests.integration._backup_helpers import (
    FixtureCollection,
    go_path_escape,
    go_query_escape,
    write_mongodump_dir,
)

ESCAPES = {"query": go_query_escape, "path": go_path_escape}
VIEW = (
    '{"options":{"viewOn":"c++","pipeline":[{"$match":{"n":{"$gt":{"$numberInt":"1"}}}}]},'
    '"indexes":[],"collectionName":"big"}'
)


def _coll(name: str, index_key: str = '{"b":{"$numberInt":"-1"},"a":{"$numberInt":"1"}}') -> str:
    return (
        '{"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"},'
        f'{{"v":{{"$numberInt":"2"}},"key":{index_key},"name":"ba","unique":true}}],'
        f'"uuid":"0679db720f4944de90ae27472664e94a","collectionName":"{name}"}}'
    )


@pytest.mark.parametrize("gzip_files", [False, True])
@pytest.mark.parametrize("escape", ["query", "path"])
def test_reads_both_generations_and_gzip(tmp_path: Path, gzip_files: bool, escape: str) -> None:
    """Escaped names (QueryEscape or PathEscape), gzip or not, views, long names, key order."""
    long_name = "長" * 30
    collections = [
        FixtureCollection(name, _coll(name), (encode({"_id": 1}),))
        for name in ("c++", "订单", "my coll", "a/b", long_name)
    ]
    collections.append(FixtureCollection("big", VIEW, None))
    folder = tmp_path / "shop"
    write_mongodump_dir(folder, collections, gzip_files=gzip_files, escape=ESCAPES[escape])
    contents = read_dump(folder)
    assert contents.problems == []
    assert [d.name for d in contents.collections] == sorted(
        ["a/b", "big", "c++", "my coll", "订单", long_name]
    )
    by_name = {d.name: d for d in contents.collections}
    assert by_name["big"].is_view
    assert by_name["big"].data is None
    assert by_name["big"].options["viewOn"] == "c++"
    assert list(by_name["c++"].indexes[1]["key"].items()) == [("b", -1), ("a", 1)]
    assert by_name["c++"].data is not None


def test_everything_not_restorable_is_listed(tmp_path: Path) -> None:
    """Time series, users, system collections, stray files and bad metadata become problems."""
    folder = tmp_path / "shop"
    write_mongodump_dir(
        folder,
        [
            FixtureCollection("ok", _coll("ok")),
            FixtureCollection(
                "weather",
                '{"options":{"timeseries":{"timeField":"t"}},"indexes":[],'
                '"collectionName":"weather"}',
                None,
            ),
            FixtureCollection("system.buckets.weather", '{"indexes":[]}'),
            FixtureCollection("$admin.system.users", '{"indexes":[]}'),
            FixtureCollection("system.profile", '{"indexes":[]}'),
            FixtureCollection("system.indexes", '{"indexes":[]}'),
        ],
        gzip_files=False,
        escape=lambda name: name,  # mongodump writes these special names unescaped
    )
    (folder / "broken.metadata.json").write_text("{not json")
    (folder / "bad%zz.bson").write_bytes(b"")
    (folder / "notes.txt").write_text("hello")
    (folder / "sub").mkdir()
    (folder / ".DS_Store").write_bytes(b"")
    contents = read_dump(folder)
    assert [d.name for d in contents.collections] == ["ok"]
    problems = "\n".join(contents.problems)
    for expected in (
        "weather: time-series collections are not restored",
        "system.buckets.weather: time-series collections are not restored",
        "$admin.system.users: users and roles are not restored by rainbond-kit",
        "broken.metadata.json: ",
        "bad%zz: invalid %-escape",
        "file notes.txt: not a dump file, not restored",
        "subdirectory sub: not a dump file, not restored",
    ):
        assert expected in problems
    assert len(contents.problems) == 7
    assert contents.notes == [
        "skipping system.indexes (mongorestore skips it too)",
        "skipping system.profile (mongorestore skips it too)",
    ]


def test_our_earlier_layout_still_reads(tmp_path: Path) -> None:
    """A .bson.gz beside a plain .metadata.json (rainbond-kit before 0.2) pairs up."""
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "c++.bson.gz").write_bytes(gzip.compress(encode({"_id": 1})))
    (folder / "c++.metadata.json").write_text('{"collectionName": "c++", "indexes": []}')
    [dump] = read_dump(folder).collections
    assert (dump.name, dump.data and dump.data.name) == ("c++", "c++.bson.gz")


def test_two_files_naming_one_collection_are_refused(tmp_path: Path) -> None:
    """c++ (PathEscape) and c%2B%2B (QueryEscape) both mean c++: neither is restored."""
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "c++.bson").write_bytes(b"")
    (folder / "c%2B%2B.bson").write_bytes(b"")
    contents = read_dump(folder)
    assert contents.collections == []
    assert contents.problems == ["c++: several files name this collection, none restored"]


def _backup(root: Path, db: str, second: int) -> Path:
    from datetime import datetime, timezone

    path = root / backup_name(db, datetime(2024, 5, 1, 2, 0, second, tzinfo=timezone.utc))
    (path / db).mkdir(parents=True)
    (path / db / "items.bson").write_bytes(encode({"_id": second}))
    return path


def _resolved(source: Path, check: Callable[[Path, str | None], None]) -> None:
    with resolve_source(source) as resolved:
        check(resolved.folder, resolved.note)


def test_from_a_backup_root_takes_the_newest(tmp_path: Path) -> None:
    """A folder of backups of one database: the newest, and the note says which."""
    newest = _backup(tmp_path, "shop", 9)
    _backup(tmp_path, "shop", 3)
    (tmp_path / f".{backup_name('shop')}.partial").mkdir()

    def check(folder: Path, note: str | None) -> None:
        assert folder == newest / "shop"
        assert note == f"restoring the newest backup in {tmp_path}: {newest.name}"

    _resolved(tmp_path, check)


def test_from_a_root_with_several_databases_lists_the_choices(tmp_path: Path) -> None:
    """Backups of two databases: no guess, the error lists them."""
    _backup(tmp_path, "shop", 1)
    _backup(tmp_path, "shop", 2)
    _backup(tmp_path, "blog", 5)
    with (
        pytest.raises(BackupError) as info,
        resolve_source(tmp_path),
    ):
        pass
    assert str(info.value) == (
        f"{tmp_path} holds backups of several databases (blog: 1 backups, newest "
        "blog-20240501T020005.000000Z; shop: 2 backups, newest shop-20240501T020002.000000Z): "
        "pass one backup folder"
    )


def test_from_backup_folder_database_folder_and_archive(tmp_path: Path) -> None:
    """A backup folder, its database folder and its .tar.gz all resolve to the database folder."""
    backup = _backup(tmp_path / "out", "shop", 1)
    for source in (backup, backup / "shop"):
        with resolve_source(source) as resolved:
            assert (resolved.folder, resolved.note) == (backup / "shop", None)
    archive = make_archive(backup, tmp_path / "up.tar.gz")

    def check(folder: Path, note: str | None) -> None:
        assert (folder.name, folder.parent.name) == ("shop", backup.name)
        assert (folder / "items.bson").read_bytes() == encode({"_id": 1})
        assert note == "unpacked up.tar.gz"

    _resolved(archive, check)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: p / "missing", r"missing does not exist$"),
        (lambda p: _touch(p / "x.zip"), r"x.zip is a file but not a .tar.gz archive$"),
        (lambda p: _mkdir(p / "empty"), r"no dump found in .*empty"),
        (lambda p: _two_databases(p / "dump"), r"several databases \(a, b\): pass one"),
        (lambda p: _evil_archive(p / "evil.tar.gz"), r"cannot unpack evil.tar.gz"),
    ],
)
def test_unusable_sources_are_clear_errors(
    tmp_path: Path, setup: Callable[[Path], Path], message: str
) -> None:
    """Nothing restorable, an ambiguous dump, or an archive escaping its folder: one clear line."""
    with pytest.raises(BackupError, match=message), resolve_source(setup(tmp_path)):
        pass


def _touch(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _two_databases(path: Path) -> Path:
    for db in ("a", "b"):
        (path / db).mkdir(parents=True)
        (path / db / "x.bson").write_bytes(b"")
    return path


def _evil_archive(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.bson")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    return path


_file_names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1
).filter(lambda n: n not in {".", ".."} and len(n.encode()) < 200)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_file_names, st.binary(max_size=40)), max_size=8))
def test_any_folder_is_read_without_raising(
    tmp_path_factory: pytest.TempPathFactory, files: list[tuple[str, bytes]]
) -> None:
    """Arbitrary file names and bytes: never an exception; a non-empty folder is never read as empty."""
    folder = tmp_path_factory.mktemp("db")
    for name, data in files:
        (folder / name).write_bytes(data)
    contents = read_dump(folder)
    accounted = len(contents.problems) + len(contents.notes) + len(contents.collections)
    visible = [p for p in folder.iterdir() if not p.name.startswith(".")]
    assert (accounted == 0) == (not visible)
    for dump in contents.collections:  # what is kept is a real, readable entry
        assert dump.data is None or dump.data.parent == folder
