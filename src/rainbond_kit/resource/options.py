"""``ResourceView.register()``'s checks of the UPPER-case options (``ConfigurationError``
naming the option; ``FILTER_FIELDS``/``SORT_FIELDS`` are checked against the schema in
``rainbond_kit.schemas``)."""

from __future__ import annotations

from collections.abc import Set
from typing import TYPE_CHECKING, Any

from rainbond_kit.data.counting import COUNT_MODES
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.resource.transitions import check_transitions_option

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = ["check_options", "paging_options"]


def check_options(cls: type[ResourceView], known_operations: Set[str]) -> None:
    """Refuse options ``register()`` would otherwise silently misread."""
    name = cls.__name__
    if not isinstance(getattr(cls, "COLLECTION", None), str) or not cls.COLLECTION:
        raise ConfigurationError(f"{name}.COLLECTION must be a collection name")
    if getattr(cls, "SCHEMA", None) is None:
        raise ConfigurationError(f"{name}.SCHEMA must be a marshmallow schema class")
    ops = cls.OPERATIONS
    if isinstance(ops, str) or not all(isinstance(op, str) for op in ops):
        raise ConfigurationError(f"{name}.OPERATIONS must be a set of operation names")
    unknown = sorted(set(ops) - set(known_operations))
    if unknown:
        raise ConfigurationError(
            f"{name}.OPERATIONS has unknown operations {unknown}; known: {sorted(known_operations)}"
        )
    if cls.COUNT_MODE not in COUNT_MODES:
        raise ConfigurationError(
            f"{name}.COUNT_MODE must be one of {', '.join(COUNT_MODES)}, got {cls.COUNT_MODE!r}"
        )
    for option in ("PAGE_SIZE", "MAX_PAGE_SIZE", "MAX_BATCH", "COUNT_LIMIT"):
        value = getattr(cls, option)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigurationError(f"{name}.{option} must be a positive integer, got {value!r}")
    offset = cls.MAX_OFFSET
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ConfigurationError(f"{name}.MAX_OFFSET must be an integer >= 0, got {offset!r}")
    if cls.PAGE_SIZE > cls.MAX_PAGE_SIZE:
        raise ConfigurationError(
            f"{name}.PAGE_SIZE ({cls.PAGE_SIZE}) is over MAX_PAGE_SIZE ({cls.MAX_PAGE_SIZE}): "
            "every plain list would be a 400"
        )
    if cls.ROW_LEVEL_FIELD is not None and cls.PERMISSION is None:
        raise ConfigurationError(
            f"{name}.ROW_LEVEL_FIELD needs PERMISSION (row-level rules come from the auth center)"
        )
    check_transitions_option(cls)


def paging_options(cls: type[ResourceView]) -> dict[str, Any]:
    """The ``QuerySpec`` members set by ``COUNT_MODE``, ``COUNT_LIMIT`` and ``MAX_OFFSET``."""
    return {
        "count_mode": cls.COUNT_MODE,
        "count_limit": cls.COUNT_LIMIT,
        "max_offset": cls.MAX_OFFSET,
    }
