"""``SHARD_KEY``: the shard key's values in the filter of a resource's writes.

On a sharded cluster before MongoDB 7.0, ``findAndModify`` (PUT/PATCH with the kit's
conditional writes) must carry the full shard key in its filter; from 7.0 it is only
faster (the write goes to one shard). The values come from the scope stamp (fields the
scope fixes, e.g. ``tenant``) and otherwise from the stored document, read from the primary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rainbond_kit.errors import NotFoundError

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = ["shard_filter"]


def shard_filter(view: ResourceView, item_id: str) -> dict[str, Any] | None:
    """``{field: value}`` for each ``SHARD_KEY`` field of the document ``item_id``: from the
    scope stamp (the scope's plain equality conditions), else read from the primary.

    :raises NotFoundError: a value had to be read and there is no live document ``item_id``.
    """
    fields = tuple(view.SHARD_KEY)
    if not fields:
        return None
    stamped: Mapping[str, Any] = view._stamped()
    values = {f: stamped[f] for f in fields if f in stamped}
    missing = [f for f in fields if f not in values]
    if missing:
        stored = view.repository.stored_values(item_id, missing)
        if stored is None:
            raise NotFoundError(f"no document with id {item_id}")
        values.update(stored)
    return values
