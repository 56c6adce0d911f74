"""Probe: backup -> restore keeps every BSON type byte for byte; damaged dumps fail clearly."""

from __future__ import annotations

import io
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import pymongo
import pytest
from bson import ObjectId, encode
from bson.binary import Binary, UuidRepresentation
from bson.code import Code
from bson.codec_options import CodecOptions
from bson.datetime_ms import DatetimeMS
from bson.dbref import DBRef
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.raw_bson import RawBSONDocument
from bson.regex import Regex
from bson.timestamp import Timestamp

from rainbond_kit.backup.errors import IncompleteRestoreError
from rainbond_kit.backup.layout import list_backups
from rainbond_kit.backup.progress import Progress
from rainbond_kit.backup.restore import restore_folder
from tests.integration._backup_helpers import invoke

Client = pymongo.MongoClient[dict[str, Any]]
RAW: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)


def every_type() -> list[dict[str, Any]]:
    """Documents holding each BSON type, extreme datetimes and awkward keys and ids."""
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    return [
        {
            "_id": ObjectId("6650c0ffee0000000000abcd"),
            "dec": [
                Decimal128("0.1000"),
                Decimal128("-0"),
                Decimal128("NaN"),
                Decimal128("Infinity"),
                Decimal128("1E+6144"),
                Decimal128("-1.000000000000000000000000000000000E-6143"),
            ],
            "bin": [Binary(b"\x00\xff", s) for s in (0, 1, 2, 5, 6, 7, 0x80, 0xFF)],
            "uuid3": Binary(u.bytes, 3),
            "uuid4": Binary.from_uuid(u, UuidRepresentation.STANDARD),
            "ts": [Timestamp(1, 1), Timestamp(2**32 - 1, 2**32 - 1)],
            "re": Regex("^订单\\d+$", "ilmsux"),
            "code": Code("function(){return 1}"),
            "scoped": Code("function(){return x}", {"x": Int64(1)}),
            "keys": [MinKey(), MaxKey()],
            "nums": [
                7,
                Int64(7),
                7.0,
                -0.0,
                float("inf"),
                float("nan"),
                2**31 - 1,
                Int64(-(2**63)),
            ],
            "dates": [DatetimeMS(-62135596800000), DatetimeMS(253402300799999), DatetimeMS(0)],
            "nested": [[[]], [{}], {"a": [{"b": [[1, [2]]]}]}],
            "ref": DBRef("other", 1, "db2", extra=True),
            "none": None,
            "bools": [True, False],
            "str": "\u0000 null and 🚀",
        },
        {"_id": Decimal128("1.10"), "v": 1},
        {"_id": Binary.from_uuid(u, UuidRepresentation.STANDARD), "v": 2},
        {"_id": {"b": 1, "a": 2}, "v": 3},
        {"_id": {"a": 2, "b": 1}, "v": 4},
        {"_id": DatetimeMS(-1), "v": 5},
        {"_id": Int64(5), "v": 6},
        {"_id": 5.5, "v": 7},
        {"_id": "订单-1", "v": 8},
        {"_id": Timestamp(5, 6), "v": 9},
        {"_id": 1, "a.b": 1, "$c": {"$d": 1, "e.f": [1]}, "ключ": "значение", "": "empty key"},
    ]


@pytest.fixture
def target_db(mongo_client: Client) -> Any:
    name = f"restored_{ObjectId()}"
    yield name
    mongo_client.drop_database(name)


def raw_documents(client: Client, db: str, coll: str) -> list[bytes]:
    return sorted(bytes(d.raw) for d in client[db].get_collection(coll, codec_options=RAW).find())


def backup_once(mongo_uri: str, db: str, out: Path, *extra: str) -> Path:
    result = invoke(
        ["backup", "--once", "--out", str(out), *extra],
        {"MONGODB_URI": mongo_uri, "MONGODB_DB": db},
    )
    assert result.exit_code == 0, result.output
    return list_backups(out, db)[-1]


def restore(mongo_uri: str, db: str, source: Path, *extra: str) -> Any:
    return invoke(
        ["restore", "--db", db, "--from", str(source), *extra], {"MONGODB_URI": mongo_uri}
    )


@pytest.mark.parametrize("gzip", [False, True])
def test_every_bson_type_round_trips_byte_exact(
    mongo_uri: str,
    mongo_client: Client,
    mongo_db_name: str,
    target_db: str,
    tmp_path: Path,
    gzip: bool,
) -> None:
    """Every BSON type, extreme dates, odd ids and keys: restored documents are byte-identical."""
    db = mongo_client[mongo_db_name]
    raw_coll = db.get_collection("all", codec_options=RAW)
    raw_coll.insert_many([RawBSONDocument(encode(d)) for d in every_type()])
    db.create_collection("empty")
    expected = raw_documents(mongo_client, mongo_db_name, "all")
    assert len(expected) == 11
    backup = backup_once(mongo_uri, mongo_db_name, tmp_path, "--gzip" if gzip else "--no-gzip")
    result = restore(mongo_uri, target_db, backup)
    assert result.exit_code == 0, result.output
    assert raw_documents(mongo_client, target_db, "all") == expected
    assert sorted(mongo_client[target_db].list_collection_names()) == ["all", "empty"]
    assert list(mongo_client[target_db].empty.find()) == []


def _dump_folder(root: Path, files: dict[str, bytes]) -> Path:
    folder = root / "dump" / "src"
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_a_corrupt_document_is_listed_and_the_other_collections_restored(
    mongo_uri: str, mongo_client: Client, target_db: str, tmp_path: Path
) -> None:
    """A document whose outer length is intact but whose inside is damaged (a string length
    byte overwritten) used to reach the server raw: the server refused the whole insert
    command, the restore stopped there with "MongoDB error: invalid BSON in body" naming no
    file, and later collections were never restored. Now the file is named as damaged, the
    listed failure says so, and every other collection is restored."""
    damaged = bytearray(encode({"_id": 3, "s": "abc"}))
    damaged[damaged.index(b"s\x00") + 2] = 0x7F
    folder = _dump_folder(
        tmp_path,
        {
            "a.bson": encode({"_id": 1}) + encode({"_id": 2}),
            "b.bson": bytes(damaged) + encode({"_id": 4}),
            "c.bson": encode({"_id": 5, "s": "ok"}),
        },
    )
    result = restore(mongo_uri, target_db, folder)
    assert result.exit_code == 1
    error = result.stderr[result.stderr.index("Error: ") :]
    assert error.startswith(
        "Error: restore incomplete: 1 item(s) not restored (restored 3 collections, 3 documents, "
    )
    assert error.splitlines()[1:] == [
        "  - b: b.bson is damaged after 0 documents: invalid length or type code"
    ]
    assert "Traceback" not in result.output
    db = mongo_client[target_db]
    assert list(db.a.find()) == [{"_id": 1}, {"_id": 2}]
    assert list(db.b.find()) == []
    assert list(db.c.find()) == [{"_id": 5, "s": "ok"}]


def test_a_damaged_document_with_a_valid_control_restores_fully(
    mongo_uri: str, mongo_client: Client, target_db: str, tmp_path: Path
) -> None:
    """Control: the same dump with the document intact restores completely, exit 0."""
    folder = _dump_folder(
        tmp_path,
        {
            "a.bson": encode({"_id": 1}) + encode({"_id": 2}),
            "b.bson": encode({"_id": 3, "s": "abc"}) + encode({"_id": 4}),
            "c.bson": encode({"_id": 5, "s": "ok"}),
        },
    )
    result = restore(mongo_uri, target_db, folder)
    assert result.exit_code == 0, result.output
    assert list(mongo_client[target_db].b.find()) == [{"_id": 3, "s": "abc"}, {"_id": 4}]


def test_a_damaged_size_field_is_refused_without_reading_the_rest_of_the_file(
    mongo_client: Client, target_db: str, tmp_path: Path
) -> None:
    """A document whose size field is damaged to 2 GiB - 1 used to make the reader ask for
    that many bytes at once: the whole rest of the file (here 40 MB; in a large dump, up to
    2 GiB, enough to get a container OOM-killed instead of reporting) was read into memory
    before the size was found wrong. The size is now checked against BSON's limit first:
    the file is listed as damaged and the allocation peak stays far below the file's size."""
    folder = _dump_folder(
        tmp_path,
        {
            "big.bson": encode({"_id": 1}) + b"\xff\xff\xff\x7f" + bytes(40_000_000),
            "ok.bson": encode({"_id": 2}),
        },
    )
    tracemalloc.start()
    try:
        with pytest.raises(IncompleteRestoreError) as info:
            restore_folder(mongo_client[target_db], folder, progress=Progress(stream=io.StringIO()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.failures == [
        "big: big.bson is damaged after 0 documents: a document's size field says 2147483647"
        " bytes, outside BSON's 5 to 16793600"
    ]
    assert peak < 10_000_000, peak
    assert list(mongo_client[target_db].ok.find()) == [{"_id": 2}]


def _index_names(client: Client, db: str, coll: str) -> list[str]:
    return sorted(str(ix["name"]) for ix in client[db][coll].list_indexes())


def test_restore_without_drop_keeps_an_existing_empty_collection(
    mongo_uri: str, mongo_client: Client, mongo_db_name: str, target_db: str, tmp_path: Path
) -> None:
    """Without --drop, an existing *empty* collection of the target (say one the app's index
    builder created, with a unique index the backup predates) used to be dropped silently and
    recreated from the dump, losing that index, although the guide says only --drop drops.
    It is now kept: the documents go into it, the dump's indexes are added beside its own.
    A collection the backup does not name is untouched."""
    source = mongo_client[mongo_db_name]
    source.orders.insert_many([{"_id": 1, "sku": "a"}, {"_id": 2, "sku": "b"}])
    source.orders.create_index("sku", name="sku_1")
    backup = backup_once(mongo_uri, mongo_db_name, tmp_path)
    target = mongo_client[target_db]
    target.orders.create_index("email", unique=True, sparse=True, name="email_unique")
    target.other.insert_one({"_id": "keep"})
    result = restore(mongo_uri, target_db, backup)
    assert result.exit_code == 0, result.output
    assert list(target.orders.find()) == [{"_id": 1, "sku": "a"}, {"_id": 2, "sku": "b"}]
    assert _index_names(mongo_client, target_db, "orders") == ["_id_", "email_unique", "sku_1"]
    assert list(target.other.find()) == [{"_id": "keep"}]


def test_restore_without_drop_refuses_an_empty_collection_with_other_options(
    mongo_uri: str, mongo_client: Client, mongo_db_name: str, target_db: str, tmp_path: Path
) -> None:
    """An existing empty collection whose options differ from the dump's (here a validator
    the backup's collection lacks) cannot take the dump as it is: refused before anything is
    written, exit 1; --drop replaces it (the control)."""
    mongo_client[mongo_db_name].orders.insert_one({"_id": 1})
    backup = backup_once(mongo_uri, mongo_db_name, tmp_path)
    mongo_client[target_db].create_collection("orders", validator={"sku": {"$exists": True}})
    mongo_client[target_db].create_collection("audit")
    result = restore(mongo_uri, target_db, backup)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: database {target_db} already has orders with other options than the"
        " backup's: pass --drop to replace those collections\n"
    )
    assert list(mongo_client[target_db].orders.find()) == []
    result = restore(mongo_uri, target_db, backup, "--drop")
    assert result.exit_code == 0, result.output
    assert list(mongo_client[target_db].orders.find()) == [{"_id": 1}]
    assert "validator" not in mongo_client[target_db].orders.options()
