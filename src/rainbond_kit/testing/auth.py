"""Testing with auth on: an auth center in the test's own stores, users with tokens.

The kit has no HTTP call to the auth center: it shares the center's signing secret, its Redis
database of logins and its MongoDB collections of users and roles. :class:`AuthCenter` arranges
those for a test, and :meth:`AuthCenter.user` returns the headers of a logged-in user holding the
codes you name::

    def test_orders_are_private(client, kit_user):
        alice = kit_user("alice", codes=[1, 2, 4])          # her own documents only
        boss = kit_user("boss", codes=[1], all_data=True)     # every document of the group
        assert client.get("/api/v1/orders", headers=alice).status_code == 200

The fixtures (in the ``rainbond_kit.testing`` plugin): ``kit_auth_center`` (an
:class:`AuthCenter` over this test's database and the test Redis; build the app with
``auth=kit_auth_center.settings`` or the variables in ``kit_auth_center.env``) and ``kit_user``
(its :meth:`~AuthCenter.user`). Without ``permission=``, a user gets the codes on every
permission the app registered (``init_auth(per_defaults=...)``), so create the app first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pymongo
import pytest
import redis
from bson import ObjectId
from pymongo.database import Database

from rainbond_kit.auth.settings import AuthSettings
from rainbond_kit.auth.stores import redis_settings_for_db
from rainbond_kit.auth.tokens import mint_token
from rainbond_kit.settings import RedisSettings

__all__ = ["AuthCenter", "auth_env", "kit_auth_center", "kit_user"]

#: the test auth center's signing secret (64+ bytes, as HS512 wants)
SECRET = "rainbond-kit-test-auth-center-" + "k" * 48
#: the Redis database of logins the test auth center uses
REDIS_DB = 3


def auth_env(database: str, *, secret: str = SECRET, redis_db: int = REDIS_DB) -> dict[str, str]:
    """The auth-center variables (``docs/auth.md``) with the collections in ``database``."""
    return {
        "SECRET_KEY": secret,
        "REDIS_DB_PERMISSION": str(redis_db),
        "MONGODB_DB_NAME": database,
        "MONGODB_PERMISSION": "permission",
        "MONGODB_PERMISSIONSET": "permission_set",
        "MONGODB_ROLE": "role",
        "MONGODB_USER": "user",
        "ADMIN_USER": "administrator",
    }


@dataclass
class AuthCenter:
    """The auth center's stores, as a test arranges them (users are logged out at the end)."""

    db: Database[dict[str, Any]]
    sessions: redis.Redis
    env: dict[str, str]
    users: list[str] = field(default_factory=list)

    @property
    def settings(self) -> AuthSettings:
        """:class:`AuthSettings` for ``init_auth`` (or an app factory's ``auth=``)."""
        return AuthSettings.from_env(self.env)

    def add_role(
        self,
        role: str,
        codes: Iterable[int],
        *,
        center: str,
        permission: str,
        all_data: bool = True,
    ) -> None:
        """A role granting ``codes`` on ``(center, permission)``."""
        self.db[self.env["MONGODB_ROLE"]].insert_one(
            {
                "role_name": role,
                "center_name": center,
                "permission_name": permission,
                "permission_status": list(codes),
                "is_all_data": all_data,
            }
        )

    def add_user(self, roles: Iterable[str], groups: Iterable[str] = ()) -> str:
        """A user holding ``roles``, member of ``groups``; returns their uid."""
        uid = str(ObjectId())
        self.db[self.env["MONGODB_USER"]].insert_one(
            {"_id": ObjectId(uid), "role_name": list(roles), "group_name": list(groups)}
        )
        self.users.append(uid)
        return uid

    def login(self, uid: str, user: str, real: str = "测试用户", **mint: Any) -> str:
        """What the auth center does at login: store the session, hand out a token."""
        self.sessions.set(uid, f"{uid}--{user}--{real}")
        return mint_token(self.env["SECRET_KEY"], uid, user, real, **mint)

    def registered(self) -> list[tuple[str, str]]:
        """The ``(center, permission)`` pairs registered so far (by ``init_auth``)."""
        found = self.db[self.env["MONGODB_PERMISSION"]].find({}, {"_id": 0})
        return sorted({(d["center_name"], d["permission_name"]) for d in found})

    def user(
        self,
        name: str,
        *,
        groups: Iterable[str] = ("testers",),
        codes: Iterable[int] = (1, 2, 4, 8, 16),
        all_data: bool = False,
        permission: tuple[str, str] | list[tuple[str, str]] | None = None,
    ) -> dict[str, str]:
        """Headers (``{"token": ...}``) of a logged-in user ``name`` holding ``codes``.

        :param groups: their groups (row-level rules show a group's documents).
        :param all_data: see the group's documents, not only their own.
        :param permission: ``(center, permission)`` or several (default: every registered one).
        :raises ValueError: no ``permission`` given and none registered yet.
        """
        pairs: list[tuple[str, str]]
        if permission is None:
            pairs = self.registered()
        elif isinstance(permission, tuple):
            pairs = [permission]
        else:
            pairs = list(permission)
        if not pairs:
            raise ValueError(
                "no permission registered yet: create the app (init_auth with per_defaults) "
                "first, or pass permission=(center, name)"
            )
        role = f"{name}-{uuid.uuid4().hex[:8]}"
        codes = list(codes)
        for center, permission_name in pairs:
            self.add_role(role, codes, center=center, permission=permission_name, all_data=all_data)
        return {"token": self.login(self.add_user([role], groups), name)}

    def close(self) -> None:
        """Log the users out and close the Redis connection."""
        if self.users:
            self.sessions.delete(*self.users)
        self.sessions.close()


def open_auth_center(
    mongo_client: pymongo.MongoClient[dict[str, Any]], database: str, redis_url: str,
    env: Mapping[str, str] | None = None,
) -> AuthCenter:  # fmt: skip
    """An :class:`AuthCenter` over ``database`` and the Redis at ``redis_url``."""
    env = dict(env or auth_env(database))
    sessions = redis.Redis.from_url(
        redis_settings_for_db(RedisSettings(url=redis_url), int(env["REDIS_DB_PERMISSION"])).url,
        decode_responses=True,
    )
    return AuthCenter(mongo_client[env["MONGODB_DB_NAME"]], sessions, env)


@pytest.fixture
def kit_auth_center(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str, redis_url: str
) -> Iterator[AuthCenter]:
    """An auth center in this test's database and the test Redis (see the module docstring)."""
    center = open_auth_center(mongo_client, mongo_db_name, redis_url)
    yield center
    center.close()


@pytest.fixture
def kit_user(kit_auth_center: AuthCenter) -> Any:
    """Factory: ``kit_user(name, groups=, codes=, all_data=, permission=)`` -> token headers."""
    return kit_auth_center.user
