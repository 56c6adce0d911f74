"""The repository's own operation timing (``rainbond_kit.data.observe``) and its metrics."""

from __future__ import annotations

import mongomock
import pymongo.errors
import pytest
from prometheus_client import REGISTRY

from rainbond_kit.data.observe import observed
from rainbond_kit.data.repository import MongoRepository
from rainbond_kit.data.store_errors import store_errors
from rainbond_kit.errors import NotFoundError, ServiceUnavailableError
from rainbond_kit.observability.mongo import OperationMetrics

Heard = list[tuple[str, str, bool]]


def _repository(heard: Heard) -> MongoRepository:
    def observer(operation: str, collection: str, seconds: float, failed: bool) -> None:
        assert seconds >= 0
        heard.append((operation, collection, failed))

    database = mongomock.MongoClient()["observe"]
    return MongoRepository(database, "books", observer=observer)


def test_each_repository_operation_is_heard_once_by_name() -> None:
    """Every repository call reports its operation and collection, once per store call."""
    heard: Heard = []
    repo = _repository(heard)
    doc = repo.insert_one({"title": "a"})
    repo.update_by_id(doc["id"], {"title": "b"})
    repo.update_by_id(doc["id"], {"title": "c"}, replace=True)
    assert repo.find({"title": "c"})[0]["title"] == "c"
    assert repo.count() == 1
    repo.soft_delete({"id": doc["id"]})
    repo.restore({"id": doc["id"]})
    assert repo.delete({"id": doc["id"]}) == 1
    page = repo.page({}, sort=[("_id", 1)], limit=5)
    assert (page.total, page.items) == (0, [])
    assert heard == [
        ("insert", "books", False),
        ("update", "books", False),
        ("replace", "books", False),
        ("find", "books", False),
        ("count", "books", False),
        ("update", "books", False),
        ("update", "books", False),
        ("delete", "books", False),
        ("find", "books", False),
        ("count", "books", False),
    ]


def test_a_driver_failure_is_heard_as_failed_and_still_translated() -> None:
    """A pymongo error inside the block reports failed=True and still becomes the HTTP error;
    the kit's own refusals (not found) are not store failures."""
    heard: Heard = []

    def observer(operation: str, collection: str, seconds: float, failed: bool) -> None:
        heard.append((operation, collection, failed))

    down = pymongo.errors.ServerSelectionTimeoutError("down")
    with (
        pytest.raises(ServiceUnavailableError),
        observed(store_errors(), observer, "find", "books"),
    ):
        raise down
    with pytest.raises(NotFoundError), observed(store_errors(), observer, "find_one", "books"):
        raise NotFoundError("no document")
    assert heard == [("find", "books", True), ("find_one", "books", False)]


def test_no_observer_returns_the_block_itself() -> None:
    """Without an observer the block is the error translation alone (nothing to time)."""
    inner = store_errors()
    assert observed(inner, None, "find", "books") is inner


def test_operation_metrics_count_durations_and_failures() -> None:
    """OperationMetrics feeds the operation histogram and, for failures, the failure counter."""

    def value(name: str) -> float:
        labels = {"operation": "aggregate", "collection": "observe_unit"}
        return REGISTRY.get_sample_value(name, labels) or 0.0

    count = "rainbond_mongodb_operation_duration_seconds_count"
    total = "rainbond_mongodb_operation_duration_seconds_sum"
    failures = "rainbond_mongodb_operation_failures_total"
    before = (value(count), value(total), value(failures))
    metrics = OperationMetrics()
    metrics("aggregate", "observe_unit", 0.25, False)
    metrics("aggregate", "observe_unit", 0.5, True)
    assert value(count) == before[0] + 2
    assert value(total) == pytest.approx(before[1] + 0.75)
    assert value(failures) == before[2] + 1
