"""``rainbond-kit backup`` / ``restore`` carry GridFS buckets: files download identical after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from bson import ObjectId
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings
from rainbond_kit.backup.layout import list_backups
from tests.integration._backup_helpers import invoke
from tests.integration._filestore_support import CHUNK, URL, multipart, text_of

Client = pymongo.MongoClient[dict[str, Any]]
RAW: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)


@pytest.fixture
def target_db(mongo_client: Client) -> Iterator[str]:
    name = f"restored_{ObjectId()}"
    yield name
    mongo_client.drop_database(name)


def _raw(client: Client, db: str, coll: str) -> list[bytes]:
    return sorted(bytes(d.raw) for d in client[db].get_collection(coll, codec_options=RAW).find())


def _index_keys(client: Client, db: str, coll: str) -> list[tuple[str, Any]]:
    return sorted((ix["name"], dict(ix["key"])) for ix in client[db][coll].list_indexes())


def test_gridfs_bucket_round_trips_through_backup_and_restore(
    mongo_uri: str, mongo_client: Client, mongo_db_name: str, target_db: str, tmp_path: Path
) -> None:
    """Files (one soft-deleted) survive backup -> restore with identical documents, chunks and
    indexes, and the restored database serves them byte-identical."""
    contents = [b"", text_of(CHUNK + 1), "中文内容".encode() * 1000]
    source = create_app(Settings.from_env({"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name}))
    ids = []
    with source.test_client() as client:
        for content in contents:
            body, content_type = multipart(content, filename="附件.txt")
            response = client.post(URL, data=body, content_type=content_type)
            assert response.status_code == 201, response.get_json()
            ids.append(response.get_json()["id"])
        assert client.delete(f"{URL}/{ids[0]}").status_code == 204
    RainbondKit.shutdown(source)

    result = invoke(
        ["backup", "--once", "--out", str(tmp_path)],
        {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name},
    )
    assert result.exit_code == 0, result.output
    [backup] = list_backups(tmp_path, mongo_db_name)
    result = invoke(
        ["restore", "--db", target_db, "--from", str(backup)], {"MONGODB_URI": mongo_uri}
    )
    assert result.exit_code == 0, result.output
    for coll in ("attachments.files", "attachments.chunks"):
        assert _raw(mongo_client, target_db, coll) == _raw(mongo_client, mongo_db_name, coll)
        assert _index_keys(mongo_client, target_db, coll) == _index_keys(
            mongo_client, mongo_db_name, coll
        )

    restored = create_app(Settings.from_env({"MONGODB_URI": mongo_uri, "MONGODB_DB": target_db}))
    with restored.test_client() as client:
        assert client.get(f"{URL}/{ids[0]}/content").status_code == 404  # still soft-deleted
        for file_id, content in zip(ids[1:], contents[1:], strict=True):
            response = client.get(f"{URL}/{file_id}/content")
            assert (response.status_code, response.data) == (200, content)
    RainbondKit.shutdown(restored)
