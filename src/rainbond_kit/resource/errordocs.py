"""Documenting error responses (all the envelope) without a wrapper per request."""

from __future__ import annotations

import copy
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from rainbond_kit.auth.openapi import TOKEN_SECURITY

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = ["error_responses", "resource_errors"]

F = TypeVar("F", bound=Callable[..., Any])


def error_responses(*codes: int, secured: bool = False) -> Callable[[F], F]:
    """Document that a view answers these statuses with the error envelope.

    ``secured`` adds 401 and 403 and the ``token`` security requirement. Use it on your own
    flask-smorest views (under ``@blp.response(...)``); it writes flask-smorest's doc
    attribute directly instead of stacking ``alt_response`` wrappers, so it costs nothing
    per request::

        @blp.route("/report")
        class Report(MethodView):
            @blp.response(200, ReportSchema)
            @error_responses(400, 503, secured=True)
            def get(self): ...
    """
    if secured:
        codes = (*codes, 401, 403)

    def decorate(func: F) -> F:
        # a copy: functools.wraps shares the wrapped function's doc dict with its wrapper
        doc = copy.deepcopy(func.__dict__.get("_apidoc", {}))
        func.__dict__["_apidoc"] = doc
        responses = doc.setdefault("response", {}).setdefault("responses", {})
        for code in codes:
            responses.setdefault(code, []).append(HTTPStatus(code).name)
        if secured:
            doc.setdefault("manual_doc", {})["security"] = TOKEN_SECURITY
        return func  # the same function: no wrapper

    return decorate


def resource_errors(cls: type[ResourceView], *codes: int) -> Callable[[F], F]:
    """:func:`error_responses` for a generated operation of ``cls`` (its auth and rate limit)."""
    if cls.RATE_LIMIT is not None:
        codes = (*codes, 429)
    return error_responses(*codes, secured=cls.PERMISSION is not None)
