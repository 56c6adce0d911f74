"""The consistent (``--snapshot``) mode: read every collection at one cluster time.

A plain backup reads collection after collection while the application keeps writing,
so it is *not* a point-in-time copy: an order line written during the backup can be in
it while its order (in a collection already read) is not. With ``--snapshot`` every
``find`` runs in one snapshot session (``readConcern: snapshot``; the server fixes
``atClusterTime`` at the first read), so all documents are as of that one moment.

Limits (MongoDB's, see ``docs/backup.md``): replica sets and sharded clusters of MongoDB
5.0 or newer only; the server keeps snapshot history for
``minSnapshotHistoryWindowInSeconds`` (300 s by default), so a backup that reads for
longer fails with ``SnapshotTooOld`` (raise that server parameter, or back up less);
the collection list, options and indexes are read outside the snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pymongo
from pymongo.client_session import ClientSession
from pymongo.errors import OperationFailure

from rainbond_kit.backup.errors import BackupError

__all__ = [
    "MIN_SNAPSHOT_WIRE_VERSION",
    "cluster_time",
    "require_snapshot_reads",
    "snapshot_session",
]

#: Wire version of MongoDB 5.0, the first with snapshot reads outside transactions.
MIN_SNAPSHOT_WIRE_VERSION = 13
_SNAPSHOT_ERRORS = {239: "SnapshotTooOld", 246: "SnapshotUnavailable"}


def require_snapshot_reads(hello: Mapping[str, Any], server: str) -> None:
    """Refuse a server that cannot serve snapshot reads, saying why.

    :param hello: the server's ``hello`` reply.
    :raises BackupError: a standalone server, or a MongoDB older than 5.0.
    """
    if not hello.get("setName") and hello.get("msg") != "isdbgrid":
        raise BackupError(
            f"--snapshot needs a replica set or a sharded cluster: {server} is a standalone "
            "server, which has no snapshot reads (back up without --snapshot, or convert it "
            "to a one-member replica set)"
        )
    if int(hello.get("maxWireVersion", 0)) < MIN_SNAPSHOT_WIRE_VERSION:
        raise BackupError(f"--snapshot needs MongoDB 5.0 or newer: {server} is older")


@contextmanager
def snapshot_session(
    client: pymongo.MongoClient[dict[str, Any]], server: str
) -> Iterator[ClientSession]:
    """A snapshot session on a server checked by :func:`require_snapshot_reads`.

    :raises BackupError: the server cannot, or can no longer, serve the snapshot.
    """
    require_snapshot_reads(client.admin.command("hello"), server)
    try:
        with client.start_session(snapshot=True) as session:
            yield session
    except OperationFailure as exc:
        name = _SNAPSHOT_ERRORS.get(exc.code or 0)
        if name is None:
            raise
        raise BackupError(
            f"--snapshot failed ({name}): the backup read for longer than the server keeps "
            "snapshot history (minSnapshotHistoryWindowInSeconds, 300 s by default), or "
            "the server cannot serve snapshots"
        ) from None


def cluster_time(session: ClientSession) -> object | None:
    """The ``atClusterTime`` the server chose at the session's first read, if any."""
    return getattr(session, "_snapshot_time", None)  # pymongo keeps it private
