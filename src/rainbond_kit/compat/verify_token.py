"""Drop-in ``rainbond_python.verify_token``: ``VerifyToken`` and ``set_token_session``.

Same calls, same session keys, with the original's holes closed:

* the Flask secret comes from configuration (``app.config['SECRET_KEY']``, else
  ``FLASK_SECRET_KEY``, else ``SECRET_KEY``), never a constant;
* the session is rebuilt from the token on every request, and cleared on whitelisted
  routes, so a forged or replayed cookie grants nothing;
* per-request data lives in :data:`flask.g`, never on the shared ``VerifyToken``;
* ``ADMIN_USER`` is an exact match against a comma-separated list;
* no OS-based bypass; ``debug=True`` is ignored (set ``RAINBOND_AUTH_DEBUG_USER``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import Flask, Request, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from rainbond_kit.auth.container import get_auth_container
from rainbond_kit.auth.context import (
    auth_settings,
    authenticate,
    current_permission,
    peek_identity,
)
from rainbond_kit.auth.permissions import row_filter
from rainbond_kit.auth.registration import parse_per_defaults, register_permissions
from rainbond_kit.auth.startup import init_auth
from rainbond_kit.errors import ConfigurationError, ForbiddenError
from rainbond_kit.extension_state import EXTENSION_KEY

__all__ = ["VerifyToken", "filter_verify", "set_token_session"]

log = logging.getLogger("rainbond_kit.auth")


def filter_verify(
    group_list: Iterable[str],
    is_all_data: bool,
    user_name: str,
    user_field_name: str = "creator",
) -> dict[str, Any]:
    """The original's row-level filter; ``ADMIN_USER`` from the app's auth settings."""
    return row_filter(
        group_list,
        is_all_data,
        user_name,
        admin_users=auth_settings().admin_users,
        user_field_name=user_field_name,
    )


class VerifyToken:
    """The original's facade; holds configuration only, never a user's data."""

    def __init__(
        self,
        per_defaults: Sequence[Mapping[str, Any]] | None = None,
        debug: bool = False,
        debug_permission: Sequence[int] | None = None,
        proxy_none_response: bool = False,
    ) -> None:
        self.per_defaults = tuple(spec for spec in (per_defaults or ()) if spec)
        parse_per_defaults(self.per_defaults)  # fail at start-up, not per request
        self.proxy_none_response = proxy_none_response
        if debug or debug_permission is not None:
            log.warning(
                "VerifyToken(debug=...) is ignored: set RAINBOND_AUTH_DEBUG_USER to "
                "'uid--user_name--real_name' for an explicit debug bypass"
            )

    def verify_token(self, request: Request | None = None) -> dict[str, str]:
        """Authenticate the current request: ``{'token_id', 'user_name', 'real_name'}``."""
        identity = authenticate()
        return {
            "token_id": identity.uid,
            "user_name": identity.user_name,
            "real_name": identity.real_name,
        }

    def permission_verify(self, center_name: str, permission_name: str) -> dict[str, Any]:
        """``{'permission_list': [...], 'is_all_data': bool}`` of the current user."""
        permission = current_permission(center_name, permission_name)
        if self.proxy_none_response and set(permission.codes) <= {0}:
            raise ForbiddenError(f"no '{center_name}/{permission_name}' permission")
        return permission.to_session()

    @property
    def group_list(self) -> list[str]:
        """The current request's user's groups (empty outside an authenticated request)."""
        identity = peek_identity()
        return list(identity.groups) if identity else []

    def filter_verify(
        self,
        group_list: Iterable[str],
        is_all_data: bool,
        user_name: str,
        user_field_name: str = "creator",
    ) -> dict[str, Any]:
        """See :func:`filter_verify`."""
        return filter_verify(group_list, is_all_data, user_name, user_field_name)

    def add_permission_db(self, per_defaults: Iterable[Mapping[str, Any]]) -> None:
        """Register permissions now (inside an app context), synchronously."""
        register_permissions(get_auth_container().db(), auth_settings(), per_defaults)


class _Whitelist:
    """Route patterns (``/api/v1/item/<id>``, ``<int:id>``) matched exactly, any method."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._adapter = Map([Rule(p, endpoint=p, strict_slashes=False) for p in patterns]).bind(
            "localhost"
        )

    def matches(self, path: str) -> bool:
        try:
            self._adapter.match(path, method="GET")
        except HTTPException:
            return False
        return True


def set_token_session(
    app: Flask,
    verify: VerifyToken,
    per_defaults: Sequence[Mapping[str, Any]],
    whitelist: Sequence[str] = (),
) -> None:
    """Authenticate every request (except ``whitelist``) and fill the session as the original.

    Validates the auth settings and registers ``per_defaults`` now.

    :raises ConfigurationError: no secret or a malformed auth variable.
    """
    if EXTENSION_KEY not in app.extensions:
        from rainbond_kit.extension import RainbondKit

        RainbondKit(app)
    with app.app_context():
        settings = init_auth(app, per_defaults=[p for p in per_defaults if p])
    secret = app.config.get("SECRET_KEY") or settings.flask_secret
    if not secret:
        raise ConfigurationError("set SECRET_KEY or FLASK_SECRET_KEY: sessions need a secret")
    app.secret_key = secret
    specs = parse_per_defaults(p for p in per_defaults if p)
    allowed = _Whitelist(whitelist)

    @app.before_request
    def rainbond_token_session() -> None:
        if session:
            session.clear()  # nothing a client sends in the cookie is trusted
        if request.method == "OPTIONS" or allowed.matches(request.path):
            return
        user = verify.verify_token(request)
        session.update(user)
        for spec in specs:
            if spec.session_key:
                session[spec.session_key] = verify.permission_verify(
                    spec.center_name, spec.permission_name
                )
        session["group_list"] = verify.group_list
