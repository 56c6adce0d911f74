"""--snapshot refuses servers without snapshot reads, with a message that says why."""

from __future__ import annotations

from typing import Any

import pytest

from rainbond_kit.backup.consistency import require_snapshot_reads, snapshot_session
from rainbond_kit.backup.errors import BackupError

SERVER = "mongodb://mongo:27017/"


@pytest.mark.parametrize(
    "hello",
    [
        {"isWritablePrimary": True, "setName": "rs0", "maxWireVersion": 21},
        {"isWritablePrimary": True, "msg": "isdbgrid", "maxWireVersion": 13},
    ],
    ids=["replica-set", "mongos"],
)
def test_replica_sets_and_sharded_clusters_are_accepted(hello: dict[str, Any]) -> None:
    """The control: a replica set member or a mongos of MongoDB 5.0+ passes."""
    require_snapshot_reads(hello, SERVER)


def test_a_standalone_is_refused_plainly() -> None:
    """A standalone mongod (no setName, not mongos) has no snapshot reads: say so and what to do."""
    with pytest.raises(BackupError) as info:
        require_snapshot_reads({"isWritablePrimary": True, "maxWireVersion": 21}, SERVER)
    assert str(info.value) == (
        "--snapshot needs a replica set or a sharded cluster: mongodb://mongo:27017/ is a "
        "standalone server, which has no snapshot reads (back up without --snapshot, or "
        "convert it to a one-member replica set)"
    )


def test_mongodb_older_than_5_is_refused() -> None:
    """Wire version 12 (MongoDB 4.4) has snapshot reads only inside transactions."""
    with pytest.raises(BackupError, match=r"^--snapshot needs MongoDB 5.0 or newer: "):
        require_snapshot_reads({"setName": "rs0", "maxWireVersion": 12}, SERVER)


class _StandaloneClient:
    """Answers ``hello`` like a standalone mongod; a session must never be started."""

    class admin:
        @staticmethod
        def command(name: str) -> dict[str, Any]:
            assert name == "hello"
            return {"isWritablePrimary": True, "maxWireVersion": 21}

    def start_session(self, **kwargs: Any) -> None:
        raise AssertionError("no session on a standalone")


def test_snapshot_session_checks_before_starting() -> None:
    """The check runs before any session or read, so nothing is written for a refused server."""
    with (
        pytest.raises(BackupError, match="is a standalone server"),
        snapshot_session(
            _StandaloneClient(),  # type: ignore[arg-type]  # a stand-in answering hello only
            SERVER,
        ),
    ):
        pass
