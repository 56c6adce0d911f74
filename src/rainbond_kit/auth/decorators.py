"""View decorators: ``login_required`` and ``permission_required``.

They work on any Flask view function, and in ``MethodView.decorators`` (where they see
the HTTP method through :data:`flask.request`). ``OPTIONS`` (CORS preflight) passes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import Any, TypeVar, cast

from flask import request

from rainbond_kit.auth.context import authenticate, current_permission
from rainbond_kit.auth.permissions import Code
from rainbond_kit.errors import ForbiddenError

__all__ = ["METHOD_CODES", "login_required", "permission_required", "required_codes"]

F = TypeVar("F", bound=Callable[..., Any])

#: The code each HTTP method needs by default.
METHOD_CODES: dict[str, int] = {
    "GET": Code.VIEW,
    "HEAD": Code.VIEW,
    "POST": Code.ADD,
    "PUT": Code.EDIT,
    "PATCH": Code.EDIT,
    "DELETE": Code.DELETE,
}


def login_required(view: F) -> F:
    """Reject the request with 401 unless it carries a valid token of a logged-in user."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method != "OPTIONS":
            authenticate()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def required_codes(
    method: str, codes: int | Collection[int] | None = None, *, download: bool = False
) -> tuple[int, ...]:
    """The codes a request with ``method`` needs (explicit ``codes`` win).

    :raises ForbiddenError: no code is defined for ``method``.
    """
    if codes is not None:
        return (codes,) if isinstance(codes, int) else tuple(codes)
    if download and method in {"GET", "HEAD"}:
        return (Code.DOWNLOAD,)
    try:
        return (METHOD_CODES[method],)
    except KeyError:
        raise ForbiddenError(f"no permission code is defined for {method}") from None


def permission_required(
    center_name: str,
    permission_name: str,
    codes: int | Collection[int] | None = None,
    *,
    download: bool = False,
) -> Callable[[F], F]:
    """Require the caller to hold ``codes`` for ``(center_name, permission_name)``; 403 if not.

    ``codes`` default: by method (GET/HEAD 1, POST 2, PUT/PATCH 4, DELETE 8), with
    ``download=True`` GET/HEAD need 16. Several codes must all be held.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method != "OPTIONS":
                authenticate()
                needed = required_codes(request.method, codes, download=download)
                granted = current_permission(center_name, permission_name)
                if not all(granted.allows(code) for code in needed):
                    raise ForbiddenError(
                        f"no '{center_name}/{permission_name}' permission for this request",
                        extra={"required_codes": [int(c) for c in needed]},
                    )
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
