"""Which sort fields a resource's declared indexes support, and ``INDEXED_SORTS_ONLY``.

A sort is supported when some declared index's key pattern starts with the field (or it is
``id``: ``_id`` is always indexed). With ``INDEXED_SORTS_ONLY = True``, ``register()`` keeps
only supported fields sortable, so ``$sort`` by any other field is the list language's usual
400 naming the parameter; an explicit ``SORT_FIELDS`` naming an unsupported field is a
:class:`~rainbond_kit.errors.ConfigurationError` at registration.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from rainbond_kit.data.indexes import index_keys, supported_sorts
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.query import QuerySpec

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = ["indexed_sorts_only", "stored_names"]


def stored_names(spec: QuerySpec) -> dict[str, str]:
    """Documented -> stored names of ``spec``'s fields where they differ."""
    return {name: field.stored for name, field in spec.fields.items() if field.stored}


def indexed_sorts_only(cls: type[ResourceView], spec: QuerySpec) -> QuerySpec:
    """``spec`` with only the sort fields ``cls.INDEXES`` support.

    :raises ConfigurationError: ``SORT_FIELDS`` names a field no declared index supports.
    """
    keys = [index_keys(model) for model in cls.INDEXES]
    supported = supported_sorts(spec.sortable, stored_names(spec), keys)
    if cls.SORT_FIELDS is not None and supported != spec.sortable:
        missing = sorted(spec.sortable - supported)
        raise ConfigurationError(
            f"{cls.__name__}.SORT_FIELDS names {missing} but INDEXED_SORTS_ONLY is set and no"
            " declared index starts with them: add an index to INDEXES or remove them"
        )
    return dataclasses.replace(spec, sortable=supported)
