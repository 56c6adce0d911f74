"""Registering a component's permissions with the auth center (idempotent, replica-safe).

``per_defaults`` entries are ``{session_key, center_name, permission_name, status: [int]}``.
Each ``(center_name, permission_name)`` becomes one document in ``MONGODB_PERMISSION`` and
each status one document in ``MONGODB_PERMISSIONSET`` (with ``permission_id``, the string id
of the permission document, as the auth center expects). Writes are upserts keyed on the
natural key behind a unique index, so replicas starting together create each document once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pymongo
import pymongo.errors
from pymongo.collection import Collection
from pymongo.database import Database

from rainbond_kit.auth.settings import AuthSettings
from rainbond_kit.errors import ConfigurationError, RainbondError

__all__ = ["PermissionSpec", "RegistrationError", "parse_per_defaults", "register_permissions"]

log = logging.getLogger("rainbond_kit.auth")

PERMISSION_INDEX = "rainbond_permission_key"
PERMISSIONSET_INDEX = "rainbond_permissionset_key"


class RegistrationError(RainbondError):
    """The auth center's MongoDB refused or could not take the registration."""


@dataclass(frozen=True)
class PermissionSpec:
    """One validated ``per_defaults`` entry."""

    session_key: str
    center_name: str
    permission_name: str
    status: tuple[int, ...]


def parse_per_defaults(per_defaults: Iterable[Mapping[str, Any]]) -> tuple[PermissionSpec, ...]:
    """Validate ``per_defaults``.

    :raises ConfigurationError: an entry misses a key or has a wrongly typed value.
    """
    specs = []
    for index, entry in enumerate(per_defaults):
        where = f"per_defaults[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigurationError(f"{where} must be a dict")
        for key in ("center_name", "permission_name"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise ConfigurationError(f"{where}['{key}'] must be a non-empty string")
        session_key = entry.get("session_key", "")
        if not isinstance(session_key, str):
            raise ConfigurationError(f"{where}['session_key'] must be a string")
        status = entry.get("status", [])
        if not isinstance(status, list | tuple) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in status
        ):
            raise ConfigurationError(f"{where}['status'] must be a list of non-negative ints")
        specs.append(
            PermissionSpec(
                session_key,
                entry["center_name"],
                entry["permission_name"],
                tuple(dict.fromkeys(status)),
            )
        )
    return tuple(specs)


def _ensure_unique(collection: Collection[dict[str, Any]], keys: list[str], name: str) -> None:
    try:
        collection.create_index([(k, pymongo.ASCENDING) for k in keys], unique=True, name=name)
    except pymongo.errors.OperationFailure as exc:
        # Existing duplicates or a same-key index with other options: upserts still work,
        # only the concurrent-start guarantee weakens. Say so instead of failing start-up.
        log.warning(
            "auth: cannot create unique index %s on %s (%s); registration continues",
            name,
            collection.name,
            exc.code,
        )


def _upsert(
    collection: Collection[dict[str, Any]], key: dict[str, Any], on_insert: dict[str, Any]
) -> Any:
    """Insert ``key`` (+ ``on_insert``) unless present; return the document's ``_id``."""
    for attempt in range(2):
        try:
            doc = collection.find_one_and_update(
                key,
                {"$setOnInsert": on_insert},
                upsert=True,
                projection={"_id": 1},
                return_document=pymongo.ReturnDocument.AFTER,
            )
        except pymongo.errors.DuplicateKeyError:
            if attempt:  # pragma: no cover - a second race on the same key is not possible
                raise
            continue  # another replica inserted it between our match and insert: re-match
        if doc is None:  # some servers answer a lost upsert race with no document: re-read
            doc = collection.find_one(key, {"_id": 1})
        if doc is None:
            raise RegistrationError(f"upsert into {collection.name} returned no document")
        return doc["_id"]
    return None  # pragma: no cover


def register_permissions(
    db: Database[dict[str, Any]],
    settings: AuthSettings,
    per_defaults: Iterable[Mapping[str, Any]],
) -> int:
    """Register ``per_defaults``; return how many permission documents were ensured.

    :raises ConfigurationError: ``per_defaults`` is malformed.
    :raises RegistrationError: MongoDB is unreachable or refuses the writes.
    """
    specs = parse_per_defaults(per_defaults)
    if not specs:
        return 0
    permissions = db[settings.permission_collection]
    permission_set = db[settings.permissionset_collection]
    try:
        _ensure_unique(permissions, ["center_name", "permission_name"], PERMISSION_INDEX)
        _ensure_unique(
            permission_set,
            ["center_name", "permission_name", "permission_status"],
            PERMISSIONSET_INDEX,
        )
        now = dt.datetime.now(dt.timezone.utc)
        for spec in specs:
            key = {"center_name": spec.center_name, "permission_name": spec.permission_name}
            permission_id = _upsert(permissions, key, {"creation_time": now})
            for status in spec.status:
                _upsert(
                    permission_set,
                    {**key, "permission_status": status},
                    {"permission_id": str(permission_id), "creation_time": now},
                )
    except pymongo.errors.PyMongoError as exc:
        raise RegistrationError(
            f"registering permissions in {settings.mongo_db_name!r} failed: {type(exc).__name__}"
        ) from exc
    log.info("auth: %d permission(s) registered with the auth center", len(specs))
    return len(specs)
