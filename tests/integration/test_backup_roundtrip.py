"""Backup -> restore against a real MongoDB wire server: documents, types, options, indexes, views."""

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
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.raw_bson import RawBSONDocument
from bson.regex import Regex
from bson.timestamp import Timestamp

from rainbond_kit.backup.archive import make_archive
from rainbond_kit.backup.layout import list_backups
from tests.integration._backup_helpers import invoke, mongorestore_names

Client = pymongo.MongoClient[dict[str, Any]]
RAW: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)
LONG_NAME = "長" * 30  # its escaped stem is past mongodump's 238 bytes


def all_types_documents() -> list[dict[str, Any]]:
    """Documents holding every BSON type a dump must keep byte for byte, and Chinese text."""
    return [
        {
            "_id": ObjectId("6650c0ffee0000000000abcd"),
            "price": Decimal128("12345.6700"),
            "at": datetime.datetime(2024, 5, 1, 8, 30, 15, 123000),
            "blob": Binary(b"\x00\xffdata", 0),
            "uuid": Binary(b"0123456789abcdef", 4),
            "custom": Binary(b"\x01\x02", 0x80),
            "pattern": Regex("^订单-\\d+$", "im"),
            "big": Int64(2**40),
            "small": 7,
            "ratio": 0.25,
            "flag": True,
            "nothing": None,
            "ts": Timestamp(1714550000, 3),
            "lo": MinKey(),
            "hi": MaxKey(),
            "name": "张三的订单 🚀",
            "sku": "a",
            "n": 1,
            "nested": {"tags": ["新", "旧"], "deep": {"level": [1, {"x": Int64(3)}]}},
        },
        {
            "_id": "string-id",
            "name": "李四",
            "sku": "b",
            "n": 2,
            "at": datetime.datetime(2024, 1, 1),
        },
        {"_id": 3, "name": "王五", "sku": "c", "n": 3},
    ]


def make_source(db: pymongo.database.Database[dict[str, Any]]) -> None:
    """Collections with awkward names, capped/validated/collated options, index kinds, views."""
    db.orders.insert_many(all_types_documents())
    db.orders.create_index([("sku", 1), ("n", -1)], unique=True, name="sku_n_unique")
    db.orders.create_index("at", expireAfterSeconds=3600, name="at_ttl")
    db.orders.create_index("n", partialFilterExpression={"n": {"$gt": 1}}, name="n_partial")
    db.orders.create_index("name", sparse=True, name="name_sparse")
    db.orders.create_index([("$**", 1)], name="wildcard")
    db.orders.create_index("sku", collation={"locale": "fr"}, name="sku_fr")
    db.create_collection("audit", capped=True, size=65536, max=100)
    db.audit.insert_one({"event": "登录"})
    db.create_collection(
        "validated",
        validator={"$jsonSchema": {"required": ["sku"]}},
        validationLevel="strict",
        validationAction="error",
    )
    db.validated.insert_one({"sku": "x"})
    db.create_collection("zh", collation={"locale": "zh"})
    for name in ("c++", "订单", "my coll", "a/b", LONG_NAME):
        db[name].insert_one({"_id": 1, "name": name})
    db["订单"].create_index("name", name="名字")
    db.empty.create_index("k")
    db.command("create", "big_orders", viewOn="orders", pipeline=[{"$match": {"n": {"$gt": 1}}}])
    db.command("create", "bigger", viewOn="big_orders", pipeline=[{"$match": {"n": {"$gt": 2}}}])


def collections_of(client: Client, db: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (type, options) as listCollections reports them."""
    return {
        info["name"]: (info.get("type", "collection"), info.get("options", {}))
        for info in client[db].list_collections()
    }


def indexes_of(client: Client, db: str, coll: str) -> list[dict[str, Any]]:
    """The indexes of a collection without ``ns``, sorted by name."""
    return sorted(
        ({k: v for k, v in ix.items() if k != "ns"} for ix in client[db][coll].list_indexes()),
        key=lambda ix: str(ix["name"]),
    )


def raw_documents(client: Client, db: str, coll: str) -> list[bytes]:
    """Every document's raw BSON, sorted."""
    return sorted(d.raw for d in client[db].get_collection(coll, codec_options=RAW).find())


def assert_same_database(client: Client, source: str, target: str) -> None:
    """Same collections, types, options, indexes and byte-identical documents."""
    expected = collections_of(client, source)
    assert collections_of(client, target) == expected
    for name, (kind, _) in expected.items():
        if kind == "collection":
            assert indexes_of(client, target, name) == indexes_of(client, source, name), name
            assert raw_documents(client, target, name) == raw_documents(client, source, name), name
    assert [d["n"] for d in client[target].bigger.find({}, {"n": 1})] == [3]


@pytest.fixture
def source_db(mongo_client: Client, mongo_db_name: str) -> str:
    """The test database, filled by :func:`make_source`."""
    make_source(mongo_client[mongo_db_name])
    return mongo_db_name


@pytest.fixture
def target_db(mongo_client: Client) -> Any:
    """A second database name, dropped afterwards."""
    name = f"restored_{ObjectId()}"
    yield name
    mongo_client.drop_database(name)


def backup_once(mongo_uri: str, db: str, out: Path, *extra: str) -> Path:
    """``rainbond-kit backup --once``; the new backup folder."""
    result = invoke(
        ["backup", "--once", "--out", str(out), *extra],
        {"MONGODB_URI": mongo_uri, "MONGODB_DB": db},
    )
    assert result.exit_code == 0, result.output
    return list_backups(out, db)[-1]


@pytest.mark.parametrize("gzip", [False, True])
def test_backup_then_restore_is_identical(
    mongo_uri: str, mongo_client: Client, source_db: str, target_db: str, tmp_path: Path, gzip: bool
) -> None:
    """Ours -> ours: options, every index kind, views on views, all BSON types, odd names."""
    backup = backup_once(mongo_uri, source_db, tmp_path, "--gzip" if gzip else "--no-gzip")
    result = invoke(
        ["restore", "--db", target_db, "--from", str(backup)], {"MONGODB_URI": mongo_uri}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"restored into {target_db}: 12 collections, 10 documents, ")
    assert_same_database(mongo_client, source_db, target_db)


def test_restore_from_an_uploaded_archive(
    mongo_uri: str, mongo_client: Client, source_db: str, target_db: str, tmp_path: Path
) -> None:
    """The .tar.gz an upload sends restores as the backup folder itself does."""
    backup = backup_once(mongo_uri, source_db, tmp_path / "out", "--gzip")
    archive = make_archive(backup, tmp_path / "upload.tar.gz")
    result = invoke(
        ["restore", "--db", target_db, "--from", str(archive)], {"MONGODB_URI": mongo_uri}
    )
    assert result.exit_code == 0, result.output
    assert "unpacked upload.tar.gz" in result.stderr
    assert_same_database(mongo_client, source_db, target_db)


def test_gzip_file_names_are_mongodumps(mongo_uri: str, source_db: str, tmp_path: Path) -> None:
    """--gzip writes <stem>.bson.gz and <stem>.metadata.json.gz (views: metadata only), stems escaped."""
    folder = backup_once(mongo_uri, source_db, tmp_path, "--gzip") / source_db
    stems = {
        "orders": True, "audit": True, "validated": True, "zh": True, "empty": True,
        "c%2B%2B": True, "%E8%AE%A2%E5%8D%95": True, "my%20coll": True, "a%2Fb": True,
        "big_orders": False, "bigger": False,
    }  # fmt: skip
    names = {p.name for p in folder.iterdir()}
    long_stems = {n.split(".")[0] for n in names if n.startswith("%E9%95%B7")}
    assert len(long_stems) == 1
    [long_stem] = long_stems
    assert len(long_stem) == 238
    stems[long_stem] = True
    expected = {f"{stem}.metadata.json.gz" for stem in stems}
    expected |= {f"{stem}.bson.gz" for stem, data in stems.items() if data}
    assert names == expected
    for query in (True, False):  # older (QueryUnescape) and current (PathUnescape) mongorestore
        found = mongorestore_names(folder, gzip_files=True, query=query)
        assert "?" not in found
        assert found["c++"] == found["订单"] == found["my coll"] == {"bson", "metadata"}
        assert found[LONG_NAME] == {"bson", "metadata"}
        assert found["big_orders"] == {"metadata"}


def test_restore_refuses_non_empty_target_without_drop(
    mongo_uri: str, mongo_client: Client, source_db: str, target_db: str, tmp_path: Path
) -> None:
    """A target collection holding documents is refused (exit 1, nothing written); --drop replaces it."""
    backup = backup_once(mongo_uri, source_db, tmp_path)
    mongo_client[target_db].orders.insert_one({"_id": "keep-me"})
    env = {"MONGODB_URI": mongo_uri}
    result = invoke(["restore", "--db", target_db, "--from", str(backup)], env)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: database {target_db} already has data in orders: pass --drop to replace those collections\n"
    )
    assert list(mongo_client[target_db].orders.find()) == [{"_id": "keep-me"}]
    assert "audit" not in mongo_client[target_db].list_collection_names()
    result = invoke(["restore", "--db", target_db, "--from", str(tmp_path), "--drop"], env)
    assert result.exit_code == 0, result.output
    assert f"restoring the newest backup in {tmp_path}: {backup.name}" in result.stderr
    assert_same_database(mongo_client, source_db, target_db)


def test_restore_lists_duplicate_keys_and_exits_1(
    mongo_uri: str, mongo_client: Client, target_db: str, tmp_path: Path
) -> None:
    """Duplicate keys in a dump: the rest is inserted, the failure is listed, exit 1, no traceback."""
    source = tmp_path / "dump" / "src"
    source.mkdir(parents=True)
    (source / "c.bson").write_bytes(encode({"_id": 1}) + encode({"_id": 1}) + encode({"_id": 2}))
    result = invoke(
        ["restore", "--db", target_db, "--from", str(source)], {"MONGODB_URI": mongo_uri}
    )
    assert result.exit_code == 1
    error = result.stderr[result.stderr.index("Error: ") :]
    assert error.startswith("Error: restore incomplete: 1 item(s) not restored (restored 1 ")
    assert error.splitlines()[1].startswith("  - c: 1 documents not inserted (E11000 duplicate key")
    assert "Traceback" not in result.output
    assert sorted(d["_id"] for d in mongo_client[target_db].c.find()) == [1, 2]
