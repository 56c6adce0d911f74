"""Permission records from the auth collections (mongomock), the row filter, the settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mongomock
import pytest
from bson import ObjectId

from rainbond_kit.auth.cache import RecordCache
from rainbond_kit.auth.permissions import Permission, load_record, row_filter
from rainbond_kit.auth.settings import AuthSettings
from rainbond_kit.errors import ConfigurationError, ForbiddenError

ENV = {
    "SECRET_KEY": "k",
    "REDIS_DB_PERMISSION": "6",
    "MONGODB_DB_NAME": "auth",
    "MONGODB_PERMISSION": "permission",
    "MONGODB_PERMISSIONSET": "permission_set",
    "MONGODB_ROLE": "role",
    "MONGODB_USER": "user",
    "ADMIN_USER": " root , administrator ",
}


class CountingDb:
    """A database wrapper counting ``find`` calls per collection."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.finds: dict[str, int] = {}

    def __getitem__(self, name: str) -> Any:
        collection = self.db[name]
        counts = self.finds

        class Counted:
            def find(self, *args: Any, **kwargs: Any) -> Any:
                counts[name] = counts.get(name, 0) + 1
                return collection.find(*args, **kwargs)

            def find_one(self, *args: Any, **kwargs: Any) -> Any:
                return collection.find_one(*args, **kwargs)

        return Counted()


@pytest.fixture
def db() -> Iterator[Any]:
    client: Any = mongomock.MongoClient()
    yield client.auth
    client.close()


def test_record_unions_roles_in_one_query(db: Any) -> None:
    """Three roles: codes are unioned per permission, is_all_data only if all say so, one $in find."""
    uid = ObjectId()
    db.user.insert_one({"_id": uid, "role_name": ["a", "b", "c"], "group_name": ["g1", 7, "g2"]})
    db.role.insert_many(
        [
            {"role_name": "a", "center_name": "C", "permission_name": "P", "permission_status": [1, 2], "is_all_data": True},
            {"role_name": "b", "center_name": "C", "permission_name": "P", "permission_status": [2, 8, True], "is_all_data": False},
            {"role_name": "c", "center_name": "C", "permission_name": "Q", "permission_status": [1], "is_all_data": True},
            {"role_name": "z", "center_name": "C", "permission_name": "Q", "permission_status": [64], "is_all_data": True},
        ]
    )  # fmt: skip
    counting = CountingDb(db)
    record = load_record(counting, AuthSettings.from_env(ENV), str(uid))
    assert record is not None
    assert counting.finds == {"role": 1}
    assert record.groups == ("g1", "g2")
    assert record.permission("C", "P") == Permission((1, 2, 8), is_all_data=False)
    assert record.permission("C", "Q") == Permission((1,), is_all_data=True)
    assert record.permission("C", "none") == Permission((), is_all_data=False)


def test_unknown_user_has_no_record(db: Any) -> None:
    """No user document: ``None`` (the caller answers 401)."""
    assert load_record(db, AuthSettings.from_env(ENV), str(ObjectId())) is None


def test_row_filter_admin_exact() -> None:
    """Admins match exactly; a prefix or substring of an admin name is an ordinary user."""
    admins = AuthSettings.from_env(ENV).admin_users
    assert admins == frozenset({"root", "administrator"})
    assert row_filter([], True, "administrator", admin_users=admins) == {}
    for name in ("admin", "a", "", "root2"):
        with pytest.raises(ForbiddenError):
            row_filter([], True, name, admin_users=admins)


def test_row_filter_groups_and_owner() -> None:
    """Groups become an $elemMatch/$in; without is_all_data the owner field is added."""
    assert row_filter(["g"], False, "bob", user_field_name="owner") == {
        "group_list": {"$elemMatch": {"$in": ["g"]}},
        "owner": "bob",
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [("REDIS_DB_PERMISSION", "six"), ("RAINBOND_AUTH_CACHE_SECONDS", "-1"), ("EXPIRATION", "1h"),
     ("RAINBOND_AUTH_DEBUG_USER", "just-a-name")],
)  # fmt: skip
def test_malformed_settings_named(name: str, value: str) -> None:
    """A malformed auth variable raises ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match=name):
        AuthSettings.from_env({**ENV, name: value})


def test_settings_repr_hides_secret() -> None:
    """The secret never appears in the settings' repr."""
    settings = AuthSettings.from_env({**ENV, "SECRET_KEY": "very-secret-value"})
    assert "very-secret-value" not in repr(settings)


def test_record_cache_expiry_and_disable() -> None:
    """Entries expire after ``seconds``; 0 disables caching; the size bound evicts the oldest."""
    cache: RecordCache[int] = RecordCache(60, max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, 2, 3)
    off: RecordCache[int] = RecordCache(0)
    off.put("a", 1)
    assert off.get("a") is None
    short: RecordCache[int] = RecordCache(1e-9)
    short.put("a", 1)
    assert short.get("a") is None
