"""Consistency: a plain backup is not point-in-time; --snapshot reads at one cluster time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymongo
from bson import decode_all

from rainbond_kit.backup.dump import dump_database
from rainbond_kit.backup.layout import list_backups
from rainbond_kit.backup.progress import Progress
from tests.integration._backup_helpers import invoke

Client = pymongo.MongoClient[dict[str, Any]]


class _WritesDuringBackup(Progress):
    """The application keeps writing: an order and its line land after ``lines`` was read."""

    def __init__(self, db: pymongo.database.Database[dict[str, Any]]) -> None:
        super().__init__(interactive=False)
        self._db = db

    def start(self, collection: str, total: int | None = None) -> None:
        if collection == "orders":  # read after "lines" (names are read in order)
            self._db.orders.insert_one({"_id": 2})
            self._db.lines.insert_one({"_id": 20, "order": 2})
        super().start(collection, total)


def test_a_plain_backup_is_not_point_in_time(
    mongo_client: Client, mongo_db_name: str, tmp_path: Path
) -> None:
    """Collections are read one after another: an order can be in the backup without its lines."""
    db = mongo_client[mongo_db_name]
    db.orders.insert_one({"_id": 1})
    db.lines.insert_one({"_id": 10, "order": 1})
    dump_database(db, tmp_path, progress=_WritesDuringBackup(db))
    orders = decode_all((tmp_path / "orders.bson").read_bytes())
    lines = decode_all((tmp_path / "lines.bson").read_bytes())
    assert [o["_id"] for o in orders] == [1, 2]
    assert [line["order"] for line in lines] == [1]  # the line of order 2 is missing: documented


def test_snapshot_mode_reads_at_one_cluster_time(
    mongo_uri: str, mongo_client: Client, mongo_db_name: str, tmp_path: Path
) -> None:
    """--snapshot runs in one snapshot session and logs the cluster time it read at.

    SecantusDB (the test server) accepts snapshot reads but does not isolate them, so
    the isolation itself is MongoDB's guarantee and is not asserted here.
    """
    mongo_client[mongo_db_name].orders.insert_many([{"_id": i} for i in range(3)])
    result = invoke(
        ["backup", "--once", "--snapshot", "--out", str(tmp_path)],
        {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name},
    )
    assert result.exit_code == 0, result.output
    assert f"backup of {mongo_db_name} started (snapshot)" in result.stderr
    assert "all collections read at cluster time Timestamp(" in result.stderr
    [backup] = list_backups(tmp_path, mongo_db_name)
    orders = decode_all((backup / mongo_db_name / "orders.bson").read_bytes())
    assert [o["_id"] for o in orders] == [0, 1, 2]
    plain = invoke(
        ["backup", "--once", "--out", str(tmp_path)],
        {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name},
    )
    assert f"backup of {mongo_db_name} started (not point-in-time)" in plain.stderr
