"""Names of the fields rainbond-kit stores, and the one ``id`` -> ``_id`` mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "CREATION_TIME",
    "ID",
    "REMOVE_TIME",
    "STORED_ID",
    "TIMESTAMP_FIELDS",
    "UPDATE_TIME",
    "VERSION",
    "is_id",
    "stored_name",
    "without_ids",
]

#: set once on insert (UTC BSON date)
CREATION_TIME = "creation_time"
#: set on every write, never moved backwards by a resource write
UPDATE_TIME = "update_time"
#: write counter, incremented in the same atomic update as every resource write (the ETag);
#: absent means 0 (documents never written through a resource since insert)
VERSION = "_version"
#: present on soft-deleted documents only
REMOVE_TIME = "remove_time"
#: the public and the stored name of the primary key
ID = "id"
STORED_ID = "_id"
#: the timestamps every stored document carries
TIMESTAMP_FIELDS = (CREATION_TIME, UPDATE_TIME)


def stored_name(name: str) -> str:
    """The stored field name for a public one: ``id`` -> ``_id``, others unchanged."""
    return STORED_ID if name == ID else name


def is_id(name: str) -> bool:
    """Whether ``name`` (public or stored) names the primary key."""
    return name in (ID, STORED_ID)


def without_ids(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` without ``id``/``_id``."""
    return {k: v for k, v in doc.items() if not is_id(k)}
