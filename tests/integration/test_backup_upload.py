"""Uploading the finished backup to a real local HTTP server: multipart body, retries, failures."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pymongo
import pytest

from rainbond_kit.backup.layout import list_backups
from rainbond_kit.embedded import free_port
from tests.integration._backup_helpers import invoke, storage_server

Client = pymongo.MongoClient[dict[str, Any]]


@pytest.fixture
def env(mongo_uri: str, mongo_client: Client, mongo_db_name: str) -> dict[str, str]:
    """Variables of the seed plugin for a database with two documents; retries with tiny backoff."""
    mongo_client[mongo_db_name].notes.insert_many([{"n": 1, "t": "备份"}, {"n": 2}])
    return {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": mongo_db_name,
        "FILE_DIR": "shop/backups",
        "BACKUP_UPLOAD_RETRIES": "2",
        "BACKUP_UPLOAD_BACKOFF": "0.01",
    }


def test_upload_carries_file_dir_and_a_valid_tar_gz(env: dict[str, str], tmp_path: Path) -> None:
    """One POST with a file_dir field and a .tar.gz holding the mongodump layout; the archive is then removed."""
    with storage_server([200]) as server:
        result = invoke(["backup", "--once", "--out", str(tmp_path)], {**env, "URL": server.url})
    assert result.exit_code == 0, result.output
    [backup] = list_backups(tmp_path, env["MONGODB_DB"])
    [upload] = server.uploads
    parts = upload.parts()
    assert parts["file_dir"].get_content() == "shop/backups"
    assert parts["file"].get_filename() == f"{backup.name}.tar.gz"
    data = parts["file"].get_payload(decode=True)
    assert isinstance(data, bytes)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = sorted(tar.getnames())
        member = tar.extractfile(f"{backup.name}/{env['MONGODB_DB']}/notes.bson")
        assert member is not None
        assert member.read() == (backup / env["MONGODB_DB"] / "notes.bson").read_bytes()
    db = env["MONGODB_DB"]
    assert names == [
        backup.name,
        f"{backup.name}/{db}",
        f"{backup.name}/{db}/notes.bson",
        f"{backup.name}/{db}/notes.metadata.json",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [backup.name]
    assert f"uploaded {backup.name}.tar.gz (200)" in result.stderr


def test_server_error_is_retried_then_succeeds(env: dict[str, str], tmp_path: Path) -> None:
    """A 503 then a 200: the upload is retried and the backup succeeds."""
    with storage_server([503, 200]) as server:
        result = invoke(["backup", "--once", "--out", str(tmp_path)], {**env, "URL": server.url})
    assert result.exit_code == 0, result.output
    assert len(server.uploads) == 2
    first, second = (u.parts()["file"].get_payload(decode=True) for u in server.uploads)
    assert first == second


def test_failed_upload_keeps_the_dump_and_exits_non_zero(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A server that keeps answering 500: 3 attempts, exit 1, the local backup is kept."""
    with storage_server([500]) as server:
        result = invoke(["backup", "--once", "--out", str(tmp_path)], {**env, "URL": server.url})
    assert result.exit_code == 1
    assert len(server.uploads) == 3
    assert result.stderr.endswith(
        f"Error: upload to {server.url} failed after 3 attempts: HTTP 500 Internal Server Error\n"
    )
    [backup] = list_backups(tmp_path, env["MONGODB_DB"])
    assert (backup / env["MONGODB_DB"] / "notes.bson").stat().st_size > 0
    assert not list(tmp_path.glob("*.tar.gz"))


def test_refused_connection_keeps_the_dump(env: dict[str, str], tmp_path: Path) -> None:
    """Nothing listening at URL: exit 1 after the retries, naming the URL, the dump kept."""
    url = f"http://127.0.0.1:{free_port()}/upload"
    result = invoke(["backup", "--once", "--out", str(tmp_path)], {**env, "URL": url})
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: upload to {url} failed after 3 attempts: Connection refused"
    )
    assert len(list_backups(tmp_path, env["MONGODB_DB"])) == 1


def test_client_error_is_not_retried(env: dict[str, str], tmp_path: Path) -> None:
    """A 403 is final: one attempt, exit 1, the dump kept."""
    with storage_server([403]) as server:
        result = invoke(["backup", "--once", "--out", str(tmp_path)], {**env, "URL": server.url})
    assert result.exit_code == 1
    assert len(server.uploads) == 1
    assert result.stderr.endswith(
        f"Error: upload to {server.url} was refused: HTTP 403 Forbidden\n"
    )
    assert len(list_backups(tmp_path, env["MONGODB_DB"])) == 1
