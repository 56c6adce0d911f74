"""The kit's reads around a write go to the primary whatever ``readPreference`` the URI sets.

Regression (issue 14): with the README's ``readPreference=secondaryPreferred`` the existence
and version checks of PUT/PATCH/DELETE read a secondary, which may lag (a fresh document 404,
a current version 412). No sockets: the client is never connected; the collection methods
are replaced to record which read preference each call carried.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pymongo
import pytest
from bson import ObjectId
from pymongo import ReadPreference
from pymongo.collection import Collection

from rainbond_kit import MongoRepository, NotFoundError

OID = ObjectId()


@pytest.fixture
def repository() -> Iterator[MongoRepository]:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        "mongodb://127.0.0.1:1/?readPreference=secondaryPreferred", connect=False
    )
    assert client.read_preference == ReadPreference.SECONDARY_PREFERRED
    yield MongoRepository(client["db"], "books")
    client.close()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """(method, read preference) of each find_one / find_one_and_* call; no write matches."""
    calls: list[tuple[str, Any]] = []

    def find_one(self: Collection[Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(("find_one", self.read_preference))
        return {"_id": OID, "tenant": "t1", "_version": 3}

    def no_match(self: Collection[Any], *args: Any, **kwargs: Any) -> None:
        calls.append(("find_and_modify", self.read_preference))

    monkeypatch.setattr(Collection, "find_one", find_one)
    monkeypatch.setattr(Collection, "find_one_and_update", no_match)
    monkeypatch.setattr(Collection, "find_one_and_replace", no_match)
    return calls


def test_missed_write_reads_the_primary(
    repository: MongoRepository, reads: list[tuple[str, Any]]
) -> None:
    """After a conditional write matched nothing, the read telling no-op from 404/412 is a
    primary read; the repository's other reads keep the URI's preference."""
    doc = repository.write_by_id(str(OID), {"title": "t"}, expected_version=3)
    assert doc["id"] == str(OID)
    assert reads == [
        ("find_and_modify", ReadPreference.SECONDARY_PREFERRED),
        ("find_one", ReadPreference.PRIMARY),
    ]
    reads.clear()
    repository.find_one({"_id": OID})
    assert reads == [("find_one", ReadPreference.SECONDARY_PREFERRED)]


def test_replace_and_shard_values_read_the_primary(
    repository: MongoRepository, reads: list[tuple[str, Any]]
) -> None:
    """update_by_id(replace=True) reads the current version from the primary, and so does
    the shard-key read of a write."""
    with pytest.raises(NotFoundError):
        repository.update_by_id(str(OID), {"title": "t"}, replace=True)
    assert [r for _, r in reads] == [ReadPreference.PRIMARY, ReadPreference.SECONDARY_PREFERRED]
    assert [m for m, _ in reads] == ["find_one", "find_and_modify"]
    reads.clear()
    assert repository.stored_values(str(OID), ["tenant", "region"]) == {
        "tenant": "t1",
        "region": None,
    }
    assert reads == [("find_one", ReadPreference.PRIMARY)]
