"""compat.download_gridfs: a GridFS bucket as the download source, files from any tool."""

from __future__ import annotations

from typing import Any

import gridfs
import pymongo
from flask import Response

from rainbond_kit import Settings
from tests.conftest import KitAppFactory

Client = pymongo.MongoClient[dict[str, Any]]


def test_download_gridfs_serves_files_written_by_plain_pymongo(
    make_kit_app: KitAppFactory, rainbond_settings: Settings, mongo_client: Client,
    mongo_db_name: str,
) -> None:  # fmt: skip
    """A file put with pymongo's GridFSBucket (no kit fields) downloads whole and by range,
    typed from its name; an unknown id is 404, a malformed one 400, soft-deleted 404."""
    from rainbond_kit.compat.download import download_gridfs

    bucket = gridfs.GridFSBucket(mongo_client[mongo_db_name], bucket_name="reports")
    content = "月报\n".encode() * 100_000
    file_id = bucket.upload_from_stream("月报.csv", content)
    gone = bucket.upload_from_stream("old.csv", b"x")
    mongo_client[mongo_db_name]["reports.files"].update_one(
        {"_id": gone}, {"$set": {"remove_time": 1}}
    )
    app = make_kit_app(rainbond_settings)

    @app.get("/reports/<file_id>")
    def report(file_id: str) -> Response:
        return download_gridfs(file_id, "reports")

    client = app.test_client()
    whole = client.get(f"/reports/{file_id}")
    assert (whole.status_code, whole.data, whole.mimetype) == (200, content, "text/csv")
    assert "filename*=UTF-8''%E6%9C%88%E6%8A%A5.csv" in whole.headers["Content-Disposition"]
    assert "ETag" not in whole.headers
    part = client.get(f"/reports/{file_id}", headers={"Range": "bytes=0-6"})
    assert (part.status_code, part.data) == (206, content[:7])
    assert client.get("/reports/" + "0" * 24).status_code == 404
    assert client.get("/reports/nope").status_code == 400
    assert client.get(f"/reports/{gone}").status_code == 404
