"""mongodump-format fixtures -> restore, and our dump of the result compared with the fixture.

The fixtures are written byte for byte as mongodump writes them (``prepare.go``
``outputPath``/``nameGz``, ``metadata_dump.go``): escaped stems of both tool generations,
compact canonical Extended JSON metadata with ``collectionName``, gzip variants, a view
(metadata only), capped and validated collections, unique/compound/TTL/partial/sparse
indexes, Chinese names, ``c++`` and a name past 238 bytes.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pymongo
import pytest
from bson import SON, ObjectId, encode, json_util

from rainbond_kit.backup.layout import list_backups
from rainbond_kit.backup.reader import read_metadata
from tests.integration._backup_helpers import (
    FixtureCollection,
    go_path_escape,
    go_query_escape,
    invoke,
    write_mongodump_dir,
)
from tests.integration.test_backup_roundtrip import (
    LONG_NAME,
    all_types_documents,
    collections_of,
    indexes_of,
    raw_documents,
)

Client = pymongo.MongoClient[dict[str, Any]]
UUID = '"uuid":"0679db720f4944de90ae27472664e94a",'
V2 = '"v":{"$numberInt":"2"}'
ID_INDEX = f'{{{V2},"key":{{"_id":{{"$numberInt":"1"}}}},"name":"_id_"}}'


def _index(key: str, name: str, extra: str = "") -> str:
    return f'{{{V2},"key":{key},"name":"{name}"{extra}}}'


def _metadata(name: str, indexes: list[str], options: str = "", uuid: str = UUID) -> str:
    head = f'{{"options":{options},' if options else "{"
    return f'{head}"indexes":[{",".join(indexes)}],{uuid}"collectionName":"{name}"}}'


ORDERS = _metadata(
    "orders",
    [
        ID_INDEX,
        _index(
            '{"sku":{"$numberInt":"1"},"n":{"$numberInt":"-1"}}', "sku_n_unique", ',"unique":true'
        ),
        _index(
            '{"at":{"$numberInt":"1"}}', "at_ttl", ',"expireAfterSeconds":{"$numberInt":"3600"}'
        ),
        _index(
            '{"n":{"$numberInt":"1"}}',
            "n_partial",
            ',"partialFilterExpression":{"n":{"$gt":{"$numberInt":"1"}}}',
        ),
        _index('{"name":{"$numberInt":"1"}}', "name_sparse", ',"sparse":true'),
    ],
)


def fixture_collections() -> list[FixtureCollection]:
    """The dump of a shop database as mongodump writes it."""
    one = (encode({"_id": 1, "v": "一"}),)
    return [
        FixtureCollection("orders", ORDERS, tuple(encode(d) for d in all_types_documents())),
        FixtureCollection(
            "audit",
            _metadata(
                "audit",
                [ID_INDEX],
                '{"capped":true,"size":{"$numberInt":"65536"},"max":{"$numberInt":"100"}}',
            ),
            (encode({"_id": 1, "event": "登录"}),),
        ),
        FixtureCollection(
            "validated",
            _metadata(
                "validated",
                [ID_INDEX],
                '{"validator":{"$jsonSchema":{"required":["sku"]}},'
                '"validationLevel":"strict","validationAction":"error"}',
            ),
            (encode({"_id": 1, "sku": "x"}),),
        ),
        FixtureCollection(
            "订单", _metadata("订单", [ID_INDEX, _index('{"v":{"$numberInt":"1"}}', "名字")]), one
        ),
        FixtureCollection("c++", _metadata("c++", [ID_INDEX]), one),
        FixtureCollection("my coll", _metadata("my coll", [ID_INDEX]), one),
        FixtureCollection(LONG_NAME, _metadata(LONG_NAME, [ID_INDEX]), one),
        FixtureCollection("empty", _metadata("empty", [ID_INDEX]), ()),
        FixtureCollection(
            "big_orders",
            _metadata(
                "big_orders",
                [],
                '{"viewOn":"orders","pipeline":[{"$match":{"n":{"$gt":{"$numberInt":"1"}}}}]}',
                uuid="",
            ),
            None,
        ),
    ]


ESCAPES: dict[str, Callable[[str], str]] = {"query": go_query_escape, "path": go_path_escape}


@pytest.fixture
def target_db(mongo_client: Client) -> Any:
    """A database name, dropped afterwards."""
    name = f"restored_{ObjectId()}"
    yield name
    mongo_client.drop_database(name)


def _expected_indexes(metadata: str) -> list[dict[str, Any]]:
    specs = json_util.loads(metadata)["indexes"]
    return sorted(specs, key=lambda spec: str(spec["name"]))


@pytest.mark.parametrize("gzip_files", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("escape", ["query", "path"])
def test_mongodump_fixture_restores_identically(
    mongo_uri: str,
    mongo_client: Client,
    target_db: str,
    tmp_path: Path,
    gzip_files: bool,
    escape: str,
) -> None:
    """Every collection, document byte, option, index and the view come back; exit 0."""
    fixtures = fixture_collections()
    write_mongodump_dir(
        tmp_path / "dump" / "shop", fixtures, gzip_files=gzip_files, escape=ESCAPES[escape]
    )
    result = invoke(
        ["restore", "--db", target_db, "--from", str(tmp_path / "dump")],
        {"MONGODB_URI": mongo_uri},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"restored into {target_db}: 9 collections, 9 documents, ")
    restored = collections_of(mongo_client, target_db)
    assert sorted(restored) == sorted(f.name for f in fixtures)
    for fixture in fixtures:
        metadata = json_util.loads(fixture.metadata)
        kind, options = restored[fixture.name]
        assert options == metadata.get("options", {}), fixture.name
        if fixture.documents is None:
            assert kind == "view"
            continue
        assert indexes_of(mongo_client, target_db, fixture.name) == _expected_indexes(
            fixture.metadata
        )
        assert raw_documents(mongo_client, target_db, fixture.name) == sorted(fixture.documents)
    assert [d["_id"] for d in mongo_client[target_db].big_orders.find({}, {"_id": 1})] == [
        "string-id",
        3,
    ]


def test_our_dump_of_a_restored_fixture_matches_the_fixture(
    mongo_uri: str, mongo_client: Client, target_db: str, tmp_path: Path
) -> None:
    """Restore a mongodump --gzip fixture, back it up with --gzip: the same files, metadata and data.

    Names differ only where mongodump generations differ among themselves: a space is
    ``%20`` in ours (``+`` in QueryEscape's); everything else is QueryEscape's stem. The
    metadata of collections without options is byte for byte mongodump's (uuid aside).
    """
    fixtures = fixture_collections()
    source = tmp_path / "dump" / "shop"
    write_mongodump_dir(source, fixtures, gzip_files=True, escape=go_query_escape)
    env = {"MONGODB_URI": mongo_uri}
    assert invoke(["restore", "--db", target_db, "--from", str(source)], env).exit_code == 0
    result = invoke(
        ["backup", "--once", "--gzip", "--out", str(tmp_path / "out")],
        {**env, "MONGODB_DB": target_db},
    )
    assert result.exit_code == 0, result.output
    ours = list_backups(tmp_path / "out", target_db)[0] / target_db
    theirs = {p.name.replace("my+coll", "my%20coll"): p for p in source.iterdir()}
    assert sorted(p.name for p in ours.iterdir()) == sorted(theirs)
    for path in ours.iterdir():
        if path.name.endswith(".metadata.json.gz"):
            mine, dumped = read_metadata(path), read_metadata(theirs[path.name])
            for meta in (mine, dumped):
                meta.pop("uuid", None)
                meta["indexes"] = sorted(meta["indexes"], key=lambda spec: str(spec["name"]))
                # mongodump's options are a Go map (bson.M): their key order means nothing
                meta["options"] = SON(meta.get("options", SON())).to_dict()
            assert mine == dumped, path.name
    for stem in ("c%2B%2B", "%E8%AE%A2%E5%8D%95", "empty"):  # no options: bytes must match
        mine_bytes = gzip.decompress((ours / f"{stem}.metadata.json.gz").read_bytes())
        uuid = json_util.loads(mine_bytes)["uuid"]
        dumped_bytes = gzip.decompress((source / f"{stem}.metadata.json.gz").read_bytes())
        assert mine_bytes == dumped_bytes.replace(
            b"0679db720f4944de90ae27472664e94a", uuid.encode()
        )
    orders = sorted(fixtures[0].documents or ())
    assert raw_documents(mongo_client, target_db, "orders") == orders


def test_what_cannot_be_restored_is_listed_and_exits_1(
    mongo_uri: str, mongo_client: Client, target_db: str, tmp_path: Path
) -> None:
    """A text index the server refuses, a time-series collection and users: listed, rest restored.

    SecantusDB has no text indexes, so the refusal is the server's own, as a MongoDB
    without a feature would answer.
    """
    folder = tmp_path / "dump" / "shop"
    text = _index('{"_fts":"text","_ftsx":{"$numberInt":"1"}}', "body_text", ',"weights":{"body":{"$numberInt":"1"}},"default_language":"english","language_override":"language","textIndexVersion":{"$numberInt":"3"}')  # fmt: skip
    write_mongodump_dir(
        folder,
        [
            FixtureCollection("notes", _metadata("notes", [ID_INDEX, text]), (encode({"_id": 1}),)),
            FixtureCollection(
                "weather",
                _metadata("weather", [], '{"timeseries":{"timeField":"t"}}', uuid=""),
                None,
            ),
            FixtureCollection("ok", _metadata("ok", [ID_INDEX]), (encode({"_id": 2}),)),
        ],
        gzip_files=False,
        escape=go_path_escape,
    )
    (folder / "$admin.system.users.bson").write_bytes(encode({"_id": "shop.u"}))
    result = invoke(
        ["restore", "--db", target_db, "--from", str(folder)], {"MONGODB_URI": mongo_uri}
    )
    assert result.exit_code == 1
    error = result.stderr[result.stderr.index("Error: ") :].splitlines()
    assert error[0].startswith("Error: restore incomplete: 3 item(s) not restored (restored 2 ")
    assert error[1] == "  - $admin.system.users: users and roles are not restored by rainbond-kit"
    assert error[2] == "  - weather: time-series collections are not restored"
    assert error[3].startswith("  - notes: index body_text not created (text indexes are not")
    assert len(error) == 4
    assert [d["_id"] for d in mongo_client[target_db].notes.find()] == [1]
    assert [d["_id"] for d in mongo_client[target_db].ok.find()] == [2]
