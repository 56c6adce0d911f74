"""Dump files without a server: metadata format, dump discovery, index specs, multipart body, progress."""

from __future__ import annotations

import io
import uuid
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from bson import json_util
from bson.binary import Binary
from bson.son import SON

from rainbond_kit.backup.dump import collection_metadata
from rainbond_kit.backup.errors import BackupError
from rainbond_kit.backup.progress import Progress, Totals
from rainbond_kit.backup.restore import _index_models, find_dump_dir, read_dump
from rainbond_kit.backup.upload import multipart_body

UID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def test_metadata_matches_mongodump_format() -> None:
    """metadata.json holds options, indexes without ns, the uuid as hex and the collection name."""
    info = {
        "name": "items",
        "type": "collection",
        "options": {"capped": True, "size": 4096},
        "info": {"uuid": Binary(UID.bytes, 4)},
    }
    index = SON([("v", 2), ("key", SON([("a", 1)])), ("name", "a_1"), ("ns", "db.items")])
    meta = collection_metadata(info, [index])
    assert meta == {
        "indexes": [{"v": 2, "key": {"a": 1}, "name": "a_1"}],
        "uuid": UID.hex,
        "collectionName": "items",
        "type": "collection",
        "options": {"capped": True, "size": 4096},
    }
    assert collection_metadata({"name": "v", "info": {"uuid": UID}}, [])["uuid"] == UID.hex
    assert collection_metadata({"name": "v"}, [])["uuid"] == ""


def _write_dump(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_bytes(b"")


def test_find_dump_dir_accepts_backup_or_database_folder(tmp_path: Path) -> None:
    """--from may name the backup directory (one database inside) or the database folder."""
    _write_dump(tmp_path / "b" / "shop", "items.bson")
    assert find_dump_dir(tmp_path / "b") == tmp_path / "b" / "shop"
    assert find_dump_dir(tmp_path / "b" / "shop") == tmp_path / "b" / "shop"


def test_find_dump_dir_errors(tmp_path: Path) -> None:
    """An empty directory, or one with several databases, is a clear error."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackupError, match=r"no dump found in .*empty"):
        find_dump_dir(tmp_path / "empty")
    _write_dump(tmp_path / "many" / "a", "x.bson")
    _write_dump(tmp_path / "many" / "b", "y.bson.gz")
    with pytest.raises(BackupError, match=r"several databases \(a, b\)"):
        find_dump_dir(tmp_path / "many")


def test_read_dump_pairs_files_and_prefers_metadata_name(tmp_path: Path) -> None:
    """Data and metadata files pair by stem; the metadata's collectionName wins over the file name."""
    folder = tmp_path / "shop"
    _write_dump(folder, "a%2Fb.bson.gz", "plain.bson", "v.metadata.json", "notes.txt")
    (folder / "a%2Fb.metadata.json").write_text('{"collectionName": "a/b", "indexes": []}')
    (folder / "v.metadata.json").write_text(
        '{"collectionName": "v", "type": "view", "options": {"viewOn": "plain", "pipeline": []}}'
    )
    dumps = read_dump(folder)
    assert [(d.name, d.data and d.data.name, d.is_view) for d in dumps] == [
        ("a/b", "a%2Fb.bson.gz", False),
        ("plain", "plain.bson", False),
        ("v", None, True),
    ]


def test_bad_metadata_json_is_a_backup_error(tmp_path: Path) -> None:
    """A corrupt metadata file names the file."""
    _write_dump(tmp_path / "shop", "x.bson")
    (tmp_path / "shop" / "x.metadata.json").write_text("{not json")
    with pytest.raises(BackupError, match=r"^x.metadata.json is not valid JSON"):
        read_dump(tmp_path / "shop")


def test_index_models_keep_order_unique_and_name() -> None:
    """Index specs from canonical JSON keep key order, direction, name and options; _id_ is skipped."""
    meta = json_util.loads(
        '{"indexes": [{"v": {"$numberInt": "2"}, "key": {"_id": {"$numberInt": "1"}}, "name": "_id_"},'
        ' {"v": {"$numberInt": "2"}, "key": {"b": {"$numberInt": "-1"}, "a": {"$numberInt": "1"}},'
        ' "name": "ba", "unique": true, "ns": "x.y"}]}'
    )
    [model] = _index_models(meta)
    assert model.document == {"key": SON([("b", -1), ("a", 1)]), "name": "ba", "unique": True}
    assert list(model.document["key"]) == ["b", "a"]


def test_multipart_body_is_parseable_and_exact(tmp_path: Path) -> None:
    """The streamed body has the announced length and parses into file_dir and file parts."""
    archive = tmp_path / "shop-1.tar.gz"
    archive.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 300)
    chunks, length = multipart_body(archive, {"file_dir": "备份/shop"}, "BOUND")
    body = b"".join(chunks())
    assert len(body) == length
    assert b"".join(chunks()) == body  # a fresh iterator per attempt
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: multipart/form-data; boundary=BOUND\r\n\r\n" + body
    )
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    assert parts["file_dir"].get_payload(decode=True).decode() == "备份/shop"
    assert parts["file"].get_filename() == "shop-1.tar.gz"
    assert parts["file"].get_payload(decode=True) == archive.read_bytes()


def test_progress_plain_lines_when_not_a_terminal() -> None:
    """Off a terminal each collection is one timestamped line; the summary counts everything."""
    stream = io.StringIO()
    progress = Progress(stream=stream, interactive=False)
    progress.start("items", 3)
    progress.advance("items", 2)
    progress.finish("items", 3, 120)
    [line] = stream.getvalue().splitlines()
    assert line.endswith("Z items: 3 documents, 120 bytes")
    totals = Totals()
    totals.add(3, 120)
    totals.add(0, 0)
    totals.seconds = 0.5
    assert totals.describe() == "2 collections, 3 documents, 120 bytes in 0.50 s"


def test_progress_live_line_on_a_terminal() -> None:
    """On a terminal the count is redrawn in place with the expected total, then finished."""
    stream = io.StringIO()
    ticks = iter([0.0, 1.0])
    progress = Progress(stream=stream, interactive=True, clock=lambda: next(ticks))
    progress.start("items", 10)
    progress.advance("items", 4)
    progress.finish("items", 10, 400)
    assert stream.getvalue() == (
        "\r\x1b[K  items: 0 / 10 documents"
        "\r\x1b[K  items: 4 / 10 documents"
        "\r\x1b[K  items: 10 documents, 400 bytes\n"
    )
