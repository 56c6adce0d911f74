"""Actions: extra endpoints of a resource that share everything the generated ones have.

::

    class Orders(ResourceView):
        ...

        @action("pay", method="POST", code=Code.EDIT, body=PaySchema)
        def pay(self, doc, data):
            \"\"\"Pay an order.\"\"\"
            return self.transition(doc, "status", "paid", paid_by=data["method"])

        @action("report", item=False, method="GET", args=DayArgs, response=ReportSchema)
        def report(self, data):
            \"\"\"Sales of one day.\"\"\"
            return {...}

``register()`` routes each action of the class (and of its bases): an **item** action at
``<item_id>/<name>``, a **collection** action at ``<name>``. Each one gets the resource's rate
limit and permission check (with the action's own ``code``; default: by method as for the
generated verbs), its ``body`` (JSON, 415/422) or query ``args`` validated by flask-smorest, and
the resource's error responses, security scheme and summary (the method's docstring) in the
OpenAPI document. An item action first loads the document under the resource's scope (404
outside it; ``If-Match`` checked against it on ``ETAG`` resources, 412) and gets it as ``doc``
(repository form: stored field values, ``id``, timestamps, version); write it back with
:meth:`ResourceView.write_current` or :meth:`ResourceView.transition`, which are conditioned on
that version. ``data`` is the loaded body or arguments (``None`` without either).

What the method returns becomes the response: a ``Response`` as it is; ``None`` a 204; anything
else is serialized through ``response`` (default: the resource's item schema, with the ``ETag``
of a returned stored document). Values may be stored or loaded (``Enum`` members, datetimes):
both serialize as the schema documents them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint

from rainbond_kit.data.versioned import version_of
from rainbond_kit.errors import ConfigurationError, PreconditionFailedError
from rainbond_kit.idempotency import idempotent
from rainbond_kit.resource.codec import Codec, codec_for
from rainbond_kit.resource.errordocs import resource_errors
from rainbond_kit.resource.etags import refuse_none_match
from rainbond_kit.resource.openapi import document_action
from rainbond_kit.resource.routes import access_decorators, add_view, json_body

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = ["ActionSpec", "action", "actions_of", "register_actions"]

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "__rainbond_action__"
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: the methods an action may take: ``OPTIONS`` passes the permission check unauthenticated
#: (CORS preflights), ``HEAD`` comes with ``GET``, others have no permission code
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_SAFE_METHODS = frozenset({"GET", "HEAD"})
#: names the generated routes use
_RESERVED = frozenset({"search"})


@dataclasses.dataclass(frozen=True)
class ActionSpec:
    """What :func:`action` declared."""

    name: str
    item: bool
    method: str
    code: int | None
    body: type[ma.Schema] | ma.Schema | None
    args: type[ma.Schema] | ma.Schema | None
    response: type[ma.Schema] | ma.Schema | None
    status: int


def action(
    name: str,
    *,
    item: bool = True,
    method: str = "POST",
    code: int | None = None,
    body: type[ma.Schema] | ma.Schema | None = None,
    args: type[ma.Schema] | ma.Schema | None = None,
    response: type[ma.Schema] | ma.Schema | None = None,
    status: int = 200,
) -> Callable[[F], F]:
    """Declare a ``ResourceView`` method as an action (see the module docstring).

    :param name: the URL segment (lower case letters, digits, ``-``, ``_``).
    :param item: ``True``: ``<item_id>/<name>``, the method is ``(self, doc, data)``;
        ``False``: ``<name>`` on the collection, the method is ``(self, data)``.
    :param method: ``GET``, ``POST``, ``PUT``, ``PATCH`` or ``DELETE``.
    :param code: the permission code the caller needs (default: by ``method``).
    :param body: the JSON body's schema (POST, PUT and PATCH only).
    :param args: the query string's schema.
    :param response: the response schema (default: the resource's item schema).
    """
    method = method.upper()
    if not _NAME.fullmatch(name) or name in _RESERVED:
        raise ConfigurationError(f"action name {name!r} must be a lower-case URL segment")
    if method not in _METHODS:
        raise ConfigurationError(
            f"action {name!r}: method {method!r} is not one of {', '.join(_METHODS)}"
        )
    if body is not None and method not in _BODY_METHODS:
        raise ConfigurationError(f"action {name!r}: a {method} request has no body")
    if body is not None and args is not None:
        raise ConfigurationError(f"action {name!r}: give body= or args=, not both")
    spec = ActionSpec(name, item, method, code, body, args, response, status)

    def decorate(func: F) -> F:
        setattr(func, _ATTRIBUTE, spec)
        return func

    return decorate


def actions_of(cls: type[ResourceView]) -> dict[str, tuple[ActionSpec, Callable[..., Any]]]:
    """The actions of ``cls`` and its bases by method name (a subclass's override wins)."""
    found: dict[str, tuple[ActionSpec, Callable[..., Any]]] = {}
    for attribute in dir(cls):
        member = getattr(cls, attribute, None)
        spec = getattr(member, _ATTRIBUTE, None)
        if isinstance(spec, ActionSpec) and callable(member):
            found[attribute] = (spec, member)
    routes = [(s.item, s.name, s.method) for s, _ in found.values()]
    if len(set(routes)) != len(routes):
        raise ConfigurationError(f"{cls.__name__} declares two actions on one route and method")
    return found


class _Serializer:
    """Stored or loaded values -> the response ``schema`` documents (many= honoured)."""

    def __init__(self, schema: type[ma.Schema] | ma.Schema) -> None:
        self.instance = schema() if isinstance(schema, type) else schema
        self.codec: Codec = codec_for(self.instance)

    def __call__(self, value: Any) -> Any:
        if self.instance.many and isinstance(value, Sequence) and not isinstance(value, str):
            return [self.one(v) for v in value]
        return self.one(value)

    def one(self, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        stored: dict[str, Any] = {}
        for key, member in value.items():
            try:
                stored.update(self.codec.store({key: member}))
            except (TypeError, ValueError, AttributeError):  # a stored value of another type
                stored[key] = member
        return self.codec.public(stored)


def _respond(view: ResourceView, spec: ActionSpec, dump: _Serializer | None, result: Any) -> Response:  # fmt: skip
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status=204)
    if dump is None:  # the resource's item schema: a stored document, with its ETag
        return view._item_response(view._public(result), spec.status)
    return view._json(dump(result), spec.status, decimals=dump.codec.decimals)


def _current(view: ResourceView, item_id: str) -> dict[str, Any]:
    doc = view.read_current(item_id)
    expected = view._if_match()
    if expected is not None and version_of(doc) != expected:
        raise PreconditionFailedError("the document changed since it was read (ETag)")
    if request.method not in _SAFE_METHODS:  # a GET action answers as a read would
        refuse_none_match(view, item_id, doc)
    return doc


def _verb(
    blp: Blueprint,
    cls: type[ResourceView],
    spec: ActionSpec,
    func: Callable[..., Any],
    out: type[ma.Schema],
) -> Callable[..., Any]:
    dump = None if spec.response is None else _Serializer(spec.response)

    def item_verb(self: ResourceView, *loaded: Any, item_id: str) -> Response:
        doc = _current(self, item_id)
        return _respond(self, spec, dump, func(self, doc, loaded[0] if loaded else None))

    def collection_verb(self: ResourceView, *loaded: Any) -> Response:
        return _respond(self, spec, dump, func(self, loaded[0] if loaded else None))

    verb: Callable[..., Response] = item_verb if spec.item else collection_verb

    verb.__doc__ = func.__doc__
    codes = [400, 503]
    if spec.item:
        codes += [404, 409, *([412] if cls.ETAG or spec.method not in _SAFE_METHODS else [])]
    if spec.body is not None:
        codes.append(415)
    decorated: Callable[..., Any] = resource_errors(cls, *codes)(verb)
    decorated = blp.response(spec.status, spec.response or out)(decorated)
    if spec.args is not None:
        decorated = blp.arguments(spec.args, location="query")(decorated)
    if spec.body is not None:
        decorated = json_body(blp.arguments(spec.body)(decorated))
    return decorated


def register_actions(
    blp: Blueprint, cls: type[ResourceView], name: str, base: str, attrs: Mapping[str, Any],
    out: type[ma.Schema],
) -> None:  # fmt: skip
    """Route ``cls``'s actions on ``blp`` under ``base`` (called by ``ResourceView.register``).

    One view per action, so each gets the permission check of its own code.
    """
    for spec, func in actions_of(cls).values():
        verb = _verb(blp, cls, spec, func, out)
        document_action(cls, name, verb, spec.name, item=spec.item, method=spec.method)
        tag = re.sub(r"[^a-zA-Z0-9]", "_", spec.name)
        endpoint = f"{name}{'Item' if spec.item else ''}Action_{tag}_{spec.method.lower()}"
        rule = f"{base}/<item_id>/{spec.name}" if spec.item else f"{base}/{spec.name}"
        members = {
            **attrs,
            # Idempotency-Key on POST/PATCH actions, inside the permission check
            "decorators": [idempotent, *cls.decorators, *access_decorators(cls, codes=spec.code)],
            spec.method.lower(): verb,
        }
        add_view(blp, cls, endpoint, rule, members)
