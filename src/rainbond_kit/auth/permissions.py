"""Users' permissions as the auth center stores them, and the row-level filter they imply.

Codes are a *list* of ints, not a bitmask: ``0`` none, ``1`` view, ``2`` add, ``4`` edit,
``8`` delete, ``16`` download, ``32``, ``64`` (component-defined). A user's roles give, per
``(center_name, permission_name)``, the union of their codes; ``is_all_data`` is true only
when every matching role says so.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.database import Database

from rainbond_kit.auth.settings import AuthSettings
from rainbond_kit.errors import ForbiddenError

__all__ = [
    "ALL_CODES",
    "NO_PERMISSION",
    "ROW_GROUP_FIELD",
    "AuthRecord",
    "Code",
    "Permission",
    "load_record",
    "row_filter",
]


class Code(enum.IntEnum):
    """The permission codes the auth center's admin pages know."""

    NONE = 0
    VIEW = 1
    ADD = 2
    EDIT = 4
    DELETE = 8
    DOWNLOAD = 16


ALL_CODES: tuple[int, ...] = (0, 1, 2, 4, 8, 16, 32, 64)
#: the document field holding the groups a row belongs to (the seed's name)
ROW_GROUP_FIELD = "group_list"


@dataclass(frozen=True)
class Permission:
    """One user's codes for one ``(center_name, permission_name)``."""

    codes: tuple[int, ...] = ()
    is_all_data: bool = False

    def allows(self, code: int) -> bool:
        """True when ``code`` is among the granted codes."""
        return code in self.codes

    def to_session(self) -> dict[str, Any]:
        """The seed's session shape: ``{'permission_list': [...], 'is_all_data': bool}``."""
        return {"permission_list": list(self.codes), "is_all_data": self.is_all_data}


NO_PERMISSION = Permission()


@dataclass(frozen=True)
class AuthRecord:
    """A user's roles, groups and permissions, loaded together (two queries)."""

    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    grants: Mapping[tuple[str, str], Permission] = field(
        default_factory=lambda: MappingProxyType({})
    )
    fallback: Permission = NO_PERMISSION

    def permission(self, center_name: str, permission_name: str) -> Permission:
        """The user's permission for ``(center_name, permission_name)``."""
        return self.grants.get((center_name, permission_name), self.fallback)


def _strings(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else []
    return tuple(dict.fromkeys(v for v in items if isinstance(v, str)))


def _codes(value: Any) -> set[int]:
    items = value if isinstance(value, list | tuple) else []
    return {v for v in items if isinstance(v, int) and not isinstance(v, bool)}


def _user_key(uid: str) -> ObjectId | str:
    try:
        return ObjectId(uid)
    except (InvalidId, TypeError):
        return uid


def load_record(
    db: Database[dict[str, Any]],
    settings: AuthSettings,
    uid: str,
    *,
    max_time_ms: int | None = None,
) -> AuthRecord | None:
    """Load a user's record: one ``find_one`` for the user, one ``$in`` query for all roles.

    Returns ``None`` when the auth center has no such user. Driver errors propagate (the
    caller turns them into a 503).

    :param max_time_ms: the server-side time limit of each query (``MONGODB_QUERY_TIMEOUT_MS``).
    """
    user = db[settings.user_collection].find_one(
        {"_id": _user_key(uid)}, {"role_name": 1, "group_name": 1}, max_time_ms=max_time_ms
    )
    if user is None:
        return None
    roles = _strings(user.get("role_name"))
    codes: dict[tuple[str, str], set[int]] = {}
    all_data: dict[tuple[str, str], bool] = {}
    if roles:
        cursor = db[settings.role_collection].find(
            {"role_name": {"$in": list(roles)}},
            {"center_name": 1, "permission_name": 1, "permission_status": 1, "is_all_data": 1},
            max_time_ms=max_time_ms,
        )
        for doc in cursor:
            center, name = doc.get("center_name"), doc.get("permission_name")
            if not isinstance(center, str) or not isinstance(name, str):
                continue
            key = (center, name)
            codes.setdefault(key, set()).update(_codes(doc.get("permission_status")))
            all_data[key] = all_data.get(key, True) and doc.get("is_all_data") is True
    grants = {key: Permission(tuple(sorted(codes[key])), all_data[key]) for key in codes}
    return AuthRecord(roles, _strings(user.get("group_name")), MappingProxyType(grants))


def row_filter(
    group_list: Iterable[str],
    is_all_data: bool,
    user_name: str,
    *,
    admin_users: Iterable[str] = (),
    user_field_name: str = "creator",
) -> dict[str, Any]:
    """The MongoDB filter limiting rows to what the user may see.

    Administrators (exact match against ``admin_users``) skip the group condition; others
    see documents whose ``group_list`` shares a group with theirs; without ``is_all_data``
    only their own documents (``user_field_name == user_name``).

    :raises ForbiddenError: the user is no administrator and belongs to no group.
    """
    if not user_field_name or user_field_name.startswith("$"):
        raise ValueError(f"user_field_name must be a field name, got {user_field_name!r}")
    groups = [g for g in group_list if isinstance(g, str)]
    result: dict[str, Any] = {}
    if user_name in frozenset(admin_users):
        pass
    elif groups:
        result[ROW_GROUP_FIELD] = {"$elemMatch": {"$in": groups}}
    else:
        raise ForbiddenError("the user belongs to no group and cannot access data")
    if not is_all_data:
        result[user_field_name] = user_name
    return result
