"""PUT and PATCH bodies -> the ``$set``/``$unset`` of one atomic update.

* **PUT** replaces what the client owns: every loadable field of the schema is set from the
  body or, when the body leaves it out, removed; a write-only (``load_only``) field the body
  leaves out is kept (a client cannot read it back, so a returned item PUT back must not erase
  it). Server-managed fields (``dump_only`` fields,
  ``creation_time``, the owner/tenant fields stamped from the scope, anything outside the
  schema) are kept. The same holds inside a ``Nested`` object whose schema has such members:
  it is replaced member by member inside the stored object (set whole where none is stored,
  as a PATCH); a list of objects is replaced whole.
* **PATCH** is JSON Merge Patch (RFC 7396): members present are set, ``null`` removes a member,
  an object sent for a ``Nested`` field is merged into the stored one member by member
  (recursively); lists and other values replace. A required member cannot be removed (422).
  The merge is conditioned on the stored member being an object; where it is not (absent or
  ``null``), RFC 7396 applies the patch to ``{}``: the member is set whole, and must then hold
  every required member (422 naming the missing ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import UnprocessableEntity

from rainbond_kit.resource.codec import Codec

__all__ = ["MergePatch", "merge_patch", "replace_changes", "replace_patch"]

Changes = tuple[dict[str, Any], set[str]]


@dataclass
class MergePatch:
    """A PATCH as one update: ``sets``/``unsets`` by dotted path, and the ``objects`` (path ->
    codec and patch value) that the stored document must hold as objects for the merge."""

    sets: dict[str, Any] = field(default_factory=dict)
    unsets: set[str] = field(default_factory=set)
    objects: dict[str, tuple[Codec, Mapping[str, Any]]] = field(default_factory=dict)
    #: a PATCH (``null`` removes a member); else a PUT (``null`` is stored)
    merge: bool = True

    def conditions(self) -> dict[str, Any]:
        """The filter conditions of the merge: each merged member is a stored object."""
        return {path: {"$type": "object"} for path in self.objects}

    def not_objects(self, current: Mapping[str, Any]) -> list[str]:
        """The merged members ``current`` does not hold as objects (outermost first)."""
        return [p for p in self.objects if not isinstance(_at(current, p), Mapping)]

    def setting_whole(self, paths: list[str]) -> MergePatch:
        """This patch with the members at ``paths`` (stored as non-objects) set whole: the
        patch applied to ``{}``; ``objects`` still merged keep their conditions.

        :raises UnprocessableEntity: a member set whole would lack a required member.
        """
        outer = [p for p in paths if not any(p.startswith(f"{q}.") for q in paths if q != p)]
        done = MergePatch(dict(self.sets), set(self.unsets), merge=self.merge)
        for path in outer:
            codec, value = self.objects[path]
            missing = _missing(codec, value, f"{path}.") if self.merge else []
            if missing:
                raise UnprocessableEntity(
                    f"{path} is not stored as an object, so the patch sets it whole; "
                    f"it lacks required members: {', '.join(missing)}"
                )
            inside = f"{path}."
            done.sets = {k: v for k, v in done.sets.items() if not k.startswith(inside)}
            done.unsets = {k for k in done.unsets if not k.startswith(inside)}
            done.sets[path] = codec.store(_without_nulls(codec, value) if self.merge else value)
        done.objects = {
            p: v
            for p, v in self.objects.items()
            if not any(p == q or p.startswith(f"{q}.") for q in outer)
        }
        return done


def merge_patch(codec: Codec, loaded: Mapping[str, Any], prefix: str = "") -> MergePatch:
    """PATCH: the :class:`MergePatch` of ``loaded`` per RFC 7396."""
    patch = MergePatch()
    for attr, value in loaded.items():
        path = f"{prefix}{attr}"
        node = codec.nodes.get(attr)
        if value is None:
            patch.unsets.add(path)
        elif node is not None and node.child is not None and isinstance(value, Mapping):
            patch.objects[path] = (node.child, value)
            inner = merge_patch(node.child, value, f"{path}.")
            patch.sets.update(inner.sets)
            patch.unsets |= inner.unsets
            patch.objects.update(inner.objects)
        else:
            patch.sets[path] = codec.store({attr: value})[attr]
    return patch


def _at(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _without_nulls(codec: Codec, value: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr, item in value.items():
        node = codec.nodes.get(attr)
        if item is None:
            continue
        if node is not None and node.child is not None and isinstance(item, Mapping):
            item = _without_nulls(node.child, item)
        out[attr] = item
    return out


def _missing(codec: Codec, value: Mapping[str, Any], prefix: str) -> list[str]:
    found = [f"{prefix}{a}" for a in sorted(codec.required) if value.get(a) is None]
    for attr, item in value.items():
        node = codec.nodes.get(attr)
        if node is not None and node.child is not None and isinstance(item, Mapping):
            found += _missing(node.child, item, f"{prefix}{attr}.")
    return found


def replace_changes(codec: Codec, loaded: Mapping[str, Any]) -> Changes:
    """PUT: ``(sets, unsets)`` replacing the client-owned fields with ``loaded``."""
    sets = codec.store(loaded)
    unsets = {
        a for a, n in codec.nodes.items() if n.loadable and not n.write_only and a not in sets
    }
    return sets, unsets


def replace_patch(codec: Codec, loaded: Mapping[str, Any], prefix: str = "") -> MergePatch:
    """PUT as a :class:`MergePatch`: :func:`replace_changes`, except that a ``Nested`` object
    whose schema keeps members (``load_only``, ``dump_only``, at any depth) is replaced member
    by member inside the stored object (conditioned on it being one)."""
    sets, unsets = replace_changes(codec, loaded)
    patch = MergePatch(unsets={f"{prefix}{a}" for a in unsets}, merge=False)
    for attr, value in sets.items():
        node = codec.nodes.get(attr)
        child = node.child if node is not None else None
        path = f"{prefix}{attr}"
        if child is not None and _keeps(child) and isinstance(loaded.get(attr), Mapping):
            patch.objects[path] = (child, loaded[attr])
            inner = replace_patch(child, loaded[attr], f"{path}.")
            patch.sets.update(inner.sets)
            patch.unsets |= inner.unsets
            patch.objects.update(inner.objects)
        else:
            patch.sets[path] = value
    return patch


def _keeps(codec: Codec) -> bool:
    """Whether a PUT keeps some stored member of ``codec``'s objects (at any depth)."""
    return any(
        not n.loadable or n.write_only or (n.child is not None and _keeps(n.child))
        for n in codec.nodes.values()
    )
