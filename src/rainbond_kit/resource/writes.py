"""PUT and PATCH bodies -> the ``$set``/``$unset`` of one atomic update.

* **PUT** replaces what the client owns: every loadable field of the schema is set from the
  body or, when the body leaves it out, removed; a write-only (``load_only``) field the body
  leaves out is kept (a client cannot read it back, so a returned item PUT back must not erase
  it). Server-managed fields (``dump_only`` fields,
  ``creation_time``, the owner/tenant fields stamped from the scope, anything outside the
  schema) are kept.
* **PATCH** is JSON Merge Patch (RFC 7396): members present are set, ``null`` removes a member,
  an object sent for a ``Nested`` field is merged into the stored one member by member
  (recursively); lists and other values replace. A required member cannot be removed (422).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rainbond_kit.resource.codec import Codec

__all__ = ["merge_patch_changes", "replace_changes"]

Changes = tuple[dict[str, Any], set[str]]


def replace_changes(codec: Codec, loaded: Mapping[str, Any]) -> Changes:
    """PUT: ``(sets, unsets)`` replacing the client-owned fields with ``loaded``."""
    sets = codec.store(loaded)
    unsets = {
        a for a, n in codec.nodes.items() if n.loadable and not n.write_only and a not in sets
    }
    return sets, unsets


def merge_patch_changes(codec: Codec, loaded: Mapping[str, Any], prefix: str = "") -> Changes:
    """PATCH: ``(sets, unsets)`` with dotted paths, per RFC 7396 over ``loaded``."""
    sets: dict[str, Any] = {}
    unsets: set[str] = set()
    for attr, value in loaded.items():
        path = f"{prefix}{attr}"
        node = codec.nodes.get(attr)
        if value is None:
            unsets.add(path)
        elif node is not None and node.child is not None and isinstance(value, Mapping):
            child_sets, child_unsets = merge_patch_changes(node.child, value, f"{path}.")
            sets.update(child_sets)
            unsets |= child_unsets
        else:
            sets[path] = codec.store({attr: value})[attr]
    return sets, unsets
