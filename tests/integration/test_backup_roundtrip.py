"""Backup -> restore against a real MongoDB wire server: documents, types, indexes, refusals."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pymongo
import pytest
from bson import ObjectId, encode
from bson.binary import Binary
from bson.codec_options import CodecOptions
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument
from bson.regex import Regex

from rainbond_kit.backup.layout import list_backups
from tests.integration._backup_helpers import invoke

Client = pymongo.MongoClient[dict[str, Any]]
RAW: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)


def _documents() -> list[dict[str, Any]]:
    return [
        {
            "_id": ObjectId(),
            "price": Decimal128("12345.6700"),
            "at": datetime.datetime(2024, 5, 1, 8, 30, 15, 123000),
            "blob": Binary(b"\x00\xffdata", 0),
            "uuid": Binary(b"0123456789abcdef", 4),
            "pattern": Regex("^订单-\\d+$", "im"),
            "big": Int64(2**40),
            "small": 7,
            "ratio": 0.25,
            "flag": True,
            "nothing": None,
            "name": "张三的订单 🚀",
            "nested": {"tags": ["新", "旧"], "deep": {"level": [1, {"x": Int64(3)}]}},
        },
        {"_id": "string-id", "name": "李四", "sku": "b", "n": 2},
        {"_id": 3, "name": "王五", "sku": "c", "n": 3},
    ]


@pytest.fixture
def source_db(mongo_client: Client, mongo_db_name: str) -> str:
    """A database with every BSON type, Chinese text, a unique compound index and a sparse one."""
    db = mongo_client[mongo_db_name]
    db.orders.insert_many(_documents())
    db.orders.create_index([("sku", 1), ("n", -1)], unique=True, name="sku_n_unique")
    db.orders.create_index("name", sparse=True)
    db.create_collection("audit", capped=True, size=65536)
    db.audit.insert_one({"event": "登录"})
    db.empty.create_index("k")
    return mongo_db_name


@pytest.fixture
def target_db(mongo_client: Client) -> Any:
    """A second database name, dropped afterwards."""
    name = f"restored_{ObjectId()}"
    yield name
    mongo_client.drop_database(name)


def _raw_docs(client: Client, db: str, coll: str) -> list[bytes]:
    return sorted(d.raw for d in client[db].get_collection(coll, codec_options=RAW).find())


def _indexes(client: Client, db: str, coll: str) -> list[dict[str, Any]]:
    return sorted(
        ({k: v for k, v in ix.items() if k != "ns"} for ix in client[db][coll].list_indexes()),
        key=lambda ix: ix["name"],
    )


def _backup(mongo_uri: str, db: str, out: Path, *extra: str) -> Path:
    result = invoke(
        ["backup", "--once", "--out", str(out), *extra],
        {"MONGODB_URI": mongo_uri, "MONGODB_DB": db},
    )
    assert result.exit_code == 0, result.output
    [backup] = list_backups(out, db)
    return backup


@pytest.mark.parametrize("gzip", [False, True])
def test_backup_then_restore_is_identical(
    mongo_uri: str, mongo_client: Client, source_db: str, target_db: str, tmp_path: Path, gzip: bool
) -> None:
    """Restoring into another database gives byte-identical documents and the same indexes and options."""
    backup = _backup(mongo_uri, source_db, tmp_path, "--gzip" if gzip else "--no-gzip")
    suffix = ".bson.gz" if gzip else ".bson"
    assert sorted(p.name for p in (backup / source_db).iterdir()) == sorted(
        f"{c}{s}" for c in ("audit", "empty", "orders") for s in (suffix, ".metadata.json")
    )
    result = invoke(
        ["restore", "--db", target_db, "--from", str(backup)], {"MONGODB_URI": mongo_uri}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"restored into {target_db}: 3 collections, 4 documents, ")
    for coll in ("orders", "audit", "empty"):
        assert _raw_docs(mongo_client, target_db, coll) == _raw_docs(mongo_client, source_db, coll)
        assert _indexes(mongo_client, target_db, coll) == _indexes(mongo_client, source_db, coll)
    unique = next(
        ix for ix in _indexes(mongo_client, target_db, "orders") if ix["name"] == "sku_n_unique"
    )
    assert (list(unique["key"].items()), unique["unique"]) == ([("sku", 1), ("n", -1)], True)
    options = mongo_client[target_db]["audit"].options()
    assert (options["capped"], options["size"]) == (True, 65536)
    doc = mongo_client[target_db].orders.find_one({"name": "张三的订单 🚀"})
    assert doc is not None
    assert doc["price"] == Decimal128("12345.6700")
    assert doc["nested"]["tags"] == ["新", "旧"]


def test_restore_refuses_non_empty_target_without_drop(
    mongo_uri: str, mongo_client: Client, source_db: str, target_db: str, tmp_path: Path
) -> None:
    """A target collection holding documents is refused (exit 1, nothing written); --drop replaces it."""
    backup = _backup(mongo_uri, source_db, tmp_path)
    mongo_client[target_db].orders.insert_one({"_id": "keep-me"})
    env = {"MONGODB_URI": mongo_uri}
    result = invoke(["restore", "--db", target_db, "--from", str(backup)], env)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: database {target_db} already has data in orders: pass --drop to replace those collections\n"
    )
    assert list(mongo_client[target_db].orders.find()) == [{"_id": "keep-me"}]
    assert "audit" not in mongo_client[target_db].list_collection_names()
    result = invoke(
        ["restore", "--db", target_db, "--from", str(backup / source_db), "--drop"], env
    )
    assert result.exit_code == 0, result.output
    assert _raw_docs(mongo_client, target_db, "orders") == _raw_docs(
        mongo_client, source_db, "orders"
    )


def test_restore_reports_a_broken_unique_constraint(
    mongo_uri: str, mongo_client: Client, target_db: str, tmp_path: Path
) -> None:
    """Duplicate keys in a dump make restore fail with one line, not a traceback."""
    source = tmp_path / "dump" / "src"
    source.mkdir(parents=True)
    (source / "c.bson").write_bytes(encode({"_id": 1}) + encode({"_id": 1}))
    result = invoke(
        ["restore", "--db", target_db, "--from", str(source)], {"MONGODB_URI": mongo_uri}
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: MongoDB error: ")
    assert len(result.stderr.splitlines()) == 1
