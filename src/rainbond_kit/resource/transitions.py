"""State transitions and writes conditioned on the document a request read.

``ResourceView.TRANSITIONS`` declares, per field, which values may follow which::

    TRANSITIONS = {"status": {"pending": ["paid", "cancelled"], "paid": ["shipped"]}}

A value that is not a key has no way out (``shipped``, ``cancelled`` above). Every change of such
a field — by ``PUT``, ``PATCH`` or an action calling :meth:`ResourceView.transition` — must be
listed, else 409 naming the field and both values (``extra``: ``field``, ``from``, ``to``);
creating a document is not a transition. Values are compared in their stored form (an ``Enum``
field's value or name, as the schema dumps it), so rules may name ``Enum`` members or strings.

The check and the write are atomic: the write is conditioned on the version of the document the
check read (``data.versioned``), so two concurrent writers cannot both move a document out of the
same state; the loser gets 409 when the state it started from is gone, else 412.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

import marshmallow as ma

from rainbond_kit.data.fields import CREATION_TIME, UPDATE_TIME
from rainbond_kit.data.versioned import version_of
from rainbond_kit.errors import ConfigurationError, ConflictError, PreconditionFailedError
from rainbond_kit.resource.codec import Codec, codec_for

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = [
    "CurrentDocumentMixin",
    "changes_for",
    "check_change",
    "check_changes",
    "check_transitions_option",
    "check_write",
    "hook_keywords",
    "transition",
    "update_hook",
    "write_current",
]

Rules = Mapping[str, Mapping[Any, Any]]


def _stored(codec: Codec, field: str, value: Any) -> Any:
    """``value`` of ``field`` in its stored form (an ``Enum`` member -> what the schema dumps)."""
    if value is None or not isinstance(value, enum.Enum):
        return value
    return codec.store({field: value})[field]


def check_transitions_option(cls: type[ResourceView]) -> None:
    """``register()``'s check of ``TRANSITIONS`` (``ConfigurationError`` naming the problem)."""
    rules = cls.TRANSITIONS
    where = f"{cls.__name__}.TRANSITIONS"
    if not isinstance(rules, Mapping):
        raise ConfigurationError(f"{where} must be a mapping of field -> {{from: [to, ...]}}")
    fields = cls.SCHEMA().fields
    for field, moves in rules.items():
        if field not in fields or fields[field].dump_only:
            raise ConfigurationError(f"{where} names {field!r}, not a writable SCHEMA field")
        if isinstance(fields[field], ma.fields.List | ma.fields.Nested | ma.fields.Dict):
            raise ConfigurationError(f"{where}[{field!r}] must be a scalar field")
        if not isinstance(moves, Mapping) or not all(
            isinstance(targets, list | tuple | set | frozenset) for targets in moves.values()
        ):
            raise ConfigurationError(f"{where}[{field!r}] must map each value to a list of values")


def check_change(
    view: ResourceView, field: str, old: Any, new: Any, *, moving: bool = False
) -> None:
    """409 unless ``TRANSITIONS`` lets ``field`` go from ``old`` to ``new`` (both stored form).

    A field without rules passes; so does an unchanged value, unless ``moving`` (an action's
    explicit transition: paying a paid order is a 409, not a no-op).
    """
    moves = view.TRANSITIONS.get(field)
    if moves is None or (old == new and not moving):
        return
    codec = view.codec
    allowed = {
        _stored(codec, field, target)
        for source, targets in moves.items()
        if _stored(codec, field, source) == old
        for target in targets
    }
    if new not in allowed:
        raise _conflict(field, old, new)


def _conflict(field: str, old: Any, new: Any) -> ConflictError:
    return ConflictError(
        f"{field} cannot change from {old!r} to {new!r}",
        extra={"field": field, "from": old, "to": new},
    )


def check_changes(view: ResourceView, current: Mapping[str, Any], sets: Mapping[str, Any]) -> None:
    """:func:`check_change` for every ruled field among ``sets`` (stored form)."""
    for field in view.TRANSITIONS:
        if field in sets:
            check_change(view, field, current.get(field), sets[field])


def check_write(
    view: ResourceView,
    current: Mapping[str, Any] | None,
    sets: Mapping[str, Any],
    unsets: frozenset[str] | set[str],
) -> None:
    """A PUT's or PATCH's stored changes against the current document (none read: no rules)."""
    if current is not None and view.TRANSITIONS:
        check_changes(view, current, {**dict.fromkeys(unsets), **sets})


@functools.cache
def _accepted(func: Callable[..., Any]) -> frozenset[str]:
    parameters = inspect.signature(func).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return frozenset({"item_id", "current"})
    return frozenset(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)


def hook_keywords(hook: Callable[..., Any]) -> frozenset[str]:
    """Which of ``item_id`` / ``current`` an update hook declares (keyword-only or ``**kw``)."""
    func = getattr(hook, "__func__", hook)
    return _accepted(func) & {"item_id", "current"}


def changes_for(
    view: ResourceView,
    data: Mapping[str, Any],
    *,
    partial: bool,
    item_id: str | None = None,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A validated PUT/PATCH body (or a batch's update) without the owner fields, its
    references checked (422), through ``before_update``: with ``item_id`` and ``current`` when
    the hook declares them (a keyword-only parameter, or ``**kwargs``), so
    ``before_update(self, changes, *, partial)`` keeps working."""
    owner = view.owner_fields()
    view.check_references(data)
    wanted = hook_keywords(view.before_update)
    extra: dict[str, Any] = {}
    if "item_id" in wanted:
        extra["item_id"] = item_id
    if "current" in wanted:
        extra["current"] = current
    changes = {k: v for k, v in data.items() if k not in owner}
    return view.before_update(changes, partial=partial, **extra)


def update_hook(
    view: ResourceView, item_id: str, data: Mapping[str, Any], *, partial: bool
) -> tuple[dict[str, Any], Mapping[str, Any] | None, int | None]:
    """PUT/PATCH: :func:`changes_for`, the current document if one was read, and the version
    the write must find (``If-Match``'s, else the current document's, else none).

    The current (scoped) document is read first only when needed: ``TRANSITIONS`` is set or the
    hook declares ``current``; the write is then conditioned on its version (412 if it changed
    meanwhile).
    """
    wanted = hook_keywords(view.before_update)
    current = view.read_current(item_id) if view.TRANSITIONS or "current" in wanted else None
    changes = changes_for(view, data, partial=partial, item_id=item_id, current=current)
    version = view._if_match()
    if current is not None and version is None:  # condition the write on what was read
        version = version_of(current)
    return changes, current, version


def write_current(
    view: ResourceView,
    doc: Mapping[str, Any],
    sets: Mapping[str, Any],
    unsets: frozenset[str] | set[str] = frozenset(),
    *,
    conditions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``doc`` (as read in this request) only if it is unchanged since; 412 otherwise.

    ``sets`` are loaded (Python) values, stored through the schema; ``TRANSITIONS`` apply.
    """
    stored = view.codec.store(dict(sets))
    check_changes(view, doc, stored)
    try:
        return view.repository.write_by_id(
            str(doc["id"]),
            stored,
            set(unsets),
            scope=view.scope_filter(),
            expected_version=version_of(doc),
            conditions=conditions,
        )
    except PreconditionFailedError:
        now = view.read_current(str(doc["id"]))
        for field in view.TRANSITIONS:  # the state it started from is gone: 409
            if field in stored and now.get(field) != doc.get(field):
                raise _conflict(field, now.get(field), stored[field]) from None
        raise


def transition(
    view: ResourceView, doc: Mapping[str, Any], field: str, to: Any, **sets: Any
) -> dict[str, Any]:
    """Move ``field`` of ``doc`` to ``to`` (409 if ``TRANSITIONS`` forbid it), with ``sets``."""
    if field not in view.TRANSITIONS:
        raise ValueError(f"{type(view).__name__}.TRANSITIONS has no rules for {field!r}")
    check_change(view, field, doc.get(field), _stored(view.codec, field, to), moving=True)
    return write_current(view, doc, {**sets, field: to})


class CurrentDocumentMixin:
    """``ResourceView``'s members for code that works on the document a request read."""

    #: legal moves of a status field, e.g. ``{"status": {"pending": ["paid"], "paid": ["shipped"]}}``;
    #: any other change is a 409 (see the module docstring)
    TRANSITIONS: ClassVar[Mapping[str, Mapping[Any, Sequence[Any]]]] = {}

    _codec: ClassVar[Codec]
    _output_fields: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A class that declares ``SCHEMA`` gets its codec now, so ``read_item()`` and the
        other operations work on any subclass, registered or not."""
        super().__init_subclass__(**kwargs)
        schema = cls.__dict__.get("SCHEMA")
        if schema is not None and "_codec" not in cls.__dict__:
            cls._codec = codec_for(schema)
            cls._output_fields = ("id", CREATION_TIME, UPDATE_TIME, *cls._codec.dumped)

    @property
    def codec(self) -> Codec:
        """The schema's stored form <-> response form (:class:`~.codec.Codec`)."""
        return self._codec

    def read_current(self, item_id: str) -> dict[str, Any]:
        """The stored document (repository form, with its version) under the scope; 404 if none."""
        return _view(self)._read(item_id)

    def write_current(
        self, doc: Mapping[str, Any], sets: Mapping[str, Any], **kw: Any
    ) -> dict[str, Any]:
        """Write ``sets`` to ``doc`` if unchanged since it was read: :func:`write_current`."""
        return write_current(_view(self), doc, sets, **kw)

    def transition(
        self, doc: Mapping[str, Any], field: str, to: Any, **sets: Any
    ) -> dict[str, Any]:
        """Move ``doc``'s ``field`` to ``to`` if ``TRANSITIONS`` allow it (409), atomically."""
        return transition(_view(self), doc, field, to, **sets)


def _view(mixin: CurrentDocumentMixin) -> ResourceView:
    return cast("ResourceView", mixin)  # the mixin's only host
