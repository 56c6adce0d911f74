"""Declared indexes off the request path: the board, one build's outcome, the builder thread."""

from __future__ import annotations

import logging
import threading

import pymongo
import pymongo.errors
import pytest

from rainbond_kit import unique_live
from rainbond_kit.data.index_builder import IndexBuilder
from rainbond_kit.data.indexes import IndexBoard, StoreDown, build_index, supported_sorts

TITLE = pymongo.IndexModel([("title", 1)], name="title_idx")
EMAIL = pymongo.IndexModel([("email", 1)], unique=True, name="email_unique")


class FakeCollection:
    """``create_indexes`` raising the queued errors in turn, then succeeding."""

    def __init__(self, name: str, errors: list[Exception], calls: list[tuple[str, str]]) -> None:
        self.name, self.errors, self.calls = name, errors, calls

    def create_indexes(self, models: list[pymongo.IndexModel]) -> list[str]:
        self.calls.append((self.name, models[0].document["name"]))
        if self.errors:
            raise self.errors.pop(0)
        return [models[0].document["name"]]


class FakeDatabase:
    def __init__(self, errors: dict[str, list[Exception]] | None = None) -> None:
        self.errors = errors or {}
        self.calls: list[tuple[str, str]] = []

    def list_collection_names(self) -> list[str]:
        return list(self.errors)

    def __getitem__(self, name: str) -> FakeCollection:
        return FakeCollection(name, self.errors.setdefault(name, []), self.calls)


def _failure(code: int, message: str) -> pymongo.errors.OperationFailure:
    return pymongo.errors.OperationFailure(message, code, {"errmsg": message, "code": code})


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (
            _failure(86, "Index with name: email_unique already exists with different options"),
            "conflict",
            "an index of that name exists with other keys or options: Index with name: email_unique already exists with different options",
        ),
        (
            _failure(85, "Index already exists with a different name"),
            "conflict",
            "an index of that name exists with other keys or options: Index already exists with a different name",
        ),
        (
            pymongo.errors.DuplicateKeyError(
                "E11000 duplicate key error", 11000, {"errmsg": 'E11000 dup key: { email: "a" }'}
            ),
            "conflict",
            'existing documents violate it: E11000 dup key: { email: "a" }',
        ),
        (
            _failure(11000, "E11000 in build"),
            "conflict",
            "existing documents violate it: E11000 in build",
        ),
        (_failure(13, "not authorized"), "error", "MongoDB refused it (code 13): not authorized"),
        (pymongo.errors.ConfigurationError("bad"), "error", "ConfigurationError: bad"),
        (None, "built", ""),
    ],
)
def test_build_index_classifies_the_outcome(error: Exception | None, status: str, detail: str) -> None:  # fmt: skip
    """Key/option conflicts (85/86) and violating data (11000) are conflicts, other refusals
    errors, each with one line saying why; success is built."""
    db = FakeDatabase({"users": [error] if error else []})
    assert build_index(db["users"], EMAIL) == (status, detail)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        pymongo.errors.ServerSelectionTimeoutError("down"),
        pymongo.errors.AutoReconnect("reset"),
        pymongo.errors.NetworkTimeout("slow"),
        pymongo.errors.ExecutionTimeout("maxTimeMS", 50),
    ],
)
def test_unreachable_is_transient(error: Exception) -> None:
    """An unreachable or timed-out server is StoreDown (retried), never a recorded state."""
    with pytest.raises(StoreDown):
        build_index(FakeDatabase({"users": [error]})["users"], EMAIL)  # type: ignore[arg-type]


def test_board_declares_once_and_counts_without_io() -> None:
    """Declaring the same index twice (two resources on one collection) keeps one entry;
    counts, entries and reset read and change memory only."""
    board = IndexBoard()
    board.declare("books", [TITLE, EMAIL], sortable=frozenset({"title"}))
    board.declare("books", [TITLE], sortable=frozenset({"year"}), stored={"year": "y"})
    board.declare("users", [EMAIL])
    assert [(e.collection, e.name, e.status) for e in board.entries()] == [
        ("books", "email_unique", "pending"),
        ("books", "title_idx", "pending"),
        ("users", "email_unique", "pending"),
    ]
    board.record("books", "title_idx", "built")
    board.record("users", "email_unique", "conflict", "why")
    assert board.counts() == {"pending": 1, "built": 1, "conflict": 1}
    assert board.sortable() == {
        "books": (frozenset({"title", "year"}), {"year": "y"}),
        "users": (frozenset(), {}),
    }
    assert board.entries()[0].describe() == "index email_unique (email 1) on books"
    board.reset()
    assert board.counts() == {"pending": 3}


def test_supported_sorts_needs_a_leading_key() -> None:
    """A field is supported when an index starts with it (stored name), id always; a second
    key of a compound index does not count."""
    indexes = [[("author", 1), ("title", 1)], [("y", -1)]]
    sortable = {"author", "title", "year", "id", "price"}
    assert supported_sorts(sortable, {"year": "y"}, indexes) == {"author", "year", "id"}
    assert supported_sorts({"title"}, {}, []) == frozenset()


def test_unique_live_is_compound_with_the_soft_delete_marker() -> None:
    """unique_live("isbn") -> unique (isbn, remove_time); id maps to _id; a name may be given."""
    model = unique_live("isbn")
    assert model.document == {
        "key": {"isbn": 1, "remove_time": 1},
        "name": "isbn_live_unique",
        "unique": True,
    }
    assert unique_live("tenant", "id", name="t").document["key"] == {
        "tenant": 1,
        "_id": 1,
        "remove_time": 1,
    }
    with pytest.raises(ValueError, match="at least one field"):
        unique_live()


def test_builder_retries_with_backoff_then_builds_each_index_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """While MongoDB is down the builder waits and retries (one warning); then every index is
    built once, a conflict is logged once as an error naming index and collection, and the
    thread ends."""
    down = pymongo.errors.ServerSelectionTimeoutError("down")
    db = FakeDatabase({"books": [down, down], "users": [_failure(86, "other keys")]})
    board = IndexBoard()
    board.declare("books", [TITLE])
    board.declare("users", [EMAIL])
    builder = IndexBuilder(board, lambda: db, first_delay=0.01, max_delay=0.02)  # type: ignore[arg-type, return-value]
    with caplog.at_level(logging.INFO, logger="rainbond_kit.indexes"):
        builder.start()
        builder.start()  # a second request: no second thread
        assert board.wait(60)
        builder.stop()
    assert db.calls == [("books", "title_idx")] * 3 + [("users", "email_unique")]
    assert board.counts() == {"built": 1, "conflict": 1}
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        "index email_unique (email 1) on users not built (conflict): an index of that name"
        " exists with other keys or options: other keys"
    ]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert not builder.running
    builder.start()  # nothing pending: no thread, no call
    assert len(db.calls) == 4


def test_stop_ends_a_thread_waiting_for_mongodb() -> None:
    """stop() ends a builder that is backing off (a test fixture may then drop the
    database); the indexes stay pending and a later start() builds them."""
    db = FakeDatabase({"books": [pymongo.errors.AutoReconnect("x")] * 1000})
    board = IndexBoard()
    board.declare("books", [TITLE])
    builder = IndexBuilder(board, lambda: db, first_delay=3600, max_delay=3600)  # type: ignore[arg-type, return-value]
    builder.start()
    while not db.calls:
        threading.Event().wait(0.01)
    builder.stop(timeout=60)
    assert not builder.running
    assert board.counts() == {"pending": 1}
    db.errors["books"] = []
    builder.start()
    assert board.wait(60)
    builder.stop()
    assert board.counts() == {"built": 1}


def test_background_builder_waits_for_the_collection_build_now_does_not() -> None:
    """The background builder leaves a collection that does not exist yet pending (a request
    may be creating it) and builds once it exists; build_now builds it at once."""
    db = FakeDatabase({"books": []})
    board = IndexBoard()
    board.declare("books", [TITLE])
    board.declare("fresh", [EMAIL])
    builder = IndexBuilder(board, lambda: db, first_delay=0.01, max_delay=0.02)  # type: ignore[arg-type, return-value]
    builder.start()
    while board.counts().get("built") != 1:
        threading.Event().wait(0.01)
    assert board.counts() == {"built": 1, "pending": 1}
    assert db.calls == [("books", "title_idx")]
    db.errors["fresh"] = []  # a first insert created it
    assert board.wait(60)
    builder.stop()
    assert db.calls == [("books", "title_idx"), ("fresh", "email_unique")]
    board.reset()
    other = FakeDatabase({})
    assert IndexBuilder(board, lambda: other).build_now(60)  # type: ignore[arg-type, return-value]
    assert sorted(other.calls) == [("books", "title_idx"), ("fresh", "email_unique")]
