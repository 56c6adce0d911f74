"""The current request's identity and permissions.

Everything per request lives in :data:`flask.g` (never on a shared object), so concurrent
requests of different users cannot mix. The token and the login in Redis are checked on
every request; the user's roles and groups come from a few seconds' in-process cache.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import g, request

from rainbond_kit.auth.container import get_auth_container
from rainbond_kit.auth.identity import Identity, token_from_request
from rainbond_kit.auth.permissions import (
    ALL_CODES,
    ROW_GROUP_FIELD,
    AuthRecord,
    Permission,
    load_record,
    row_filter,
)
from rainbond_kit.auth.settings import AuthSettings
from rainbond_kit.auth.tokens import InvalidTokenError, decode_token
from rainbond_kit.caller import set_caller_key
from rainbond_kit.data.store_errors import store_errors
from rainbond_kit.errors import UnauthorizedError

__all__ = [
    "auth_settings",
    "authenticate",
    "current_identity",
    "current_permission",
    "current_row_filter",
    "current_row_owner",
    "peek_identity",
]

log = logging.getLogger("rainbond_kit.auth")

_G_IDENTITY = "_rainbond_auth_identity"
_G_RECORD = "_rainbond_auth_record"

_DEBUG_RECORD = AuthRecord(fallback=Permission(ALL_CODES, is_all_data=True))


def auth_settings() -> AuthSettings:
    """The current app's :class:`AuthSettings`."""
    settings: AuthSettings = get_auth_container().settings()
    return settings


def peek_identity() -> Identity | None:
    """The identity already authenticated in this request, without authenticating."""
    identity: Identity | None = g.get(_G_IDENTITY)
    return identity


def authenticate() -> Identity:
    """Authenticate the current request once and return its :class:`Identity`.

    :raises UnauthorizedError: no token, a bad or expired token, or the login has ended.
    :raises ServiceUnavailableError: the auth center's Redis or MongoDB is unreachable.
    """
    found = peek_identity()
    if found is not None:
        return found
    container = get_auth_container()
    settings = auth_settings()
    if settings.debug_user is not None:
        debug = settings.debug_user
        log.warning(
            "auth BYPASSED for %s %s: RAINBOND_AUTH_DEBUG_USER is set (never in production)",
            request.method,
            request.path,
        )
        identity = Identity(debug.uid, debug.user_name, debug.real_name)
        record = _DEBUG_RECORD
    else:
        token = token_from_request(request)
        if token is None:
            raise UnauthorizedError("missing token: send it in the 'token' header")
        try:
            claims = decode_token(token, settings.tokens.secret_key, leeway=settings.tokens.leeway)
        except InvalidTokenError as exc:
            log.info("auth: %s from %s", exc, request.remote_addr)
            raise UnauthorizedError("token verification failed") from None
        with store_errors("auth session store"):
            active = container.redis().get(container.session_prefix() + claims.uid)
        if not isinstance(active, str) or not hmac.compare_digest(
            active.encode("utf-8"), claims.session_id.encode("utf-8")
        ):
            raise UnauthorizedError("the session has ended: log in again")
        record = _record_for(claims.uid)
        identity = Identity(claims.uid, claims.user_name, claims.real_name, record.groups)
    setattr(g, _G_RECORD, record)
    setattr(g, _G_IDENTITY, identity)
    set_caller_key(f"user:{identity.uid}")
    return identity


def _record_for(uid: str) -> AuthRecord:
    container = get_auth_container()
    cache = container.cache()
    record: AuthRecord | None = cache.get(uid)
    if record is None:
        with store_errors("auth database"):
            record = load_record(
                container.db(),
                auth_settings(),
                uid,
                max_time_ms=container.core_settings().mongo.query_timeout_ms,
            )
        if record is None:
            raise UnauthorizedError("the user no longer exists in the auth center")
        cache.put(uid, record)
    return record


def current_identity() -> Identity:
    """The authenticated caller (authenticates the request on first use)."""
    return authenticate()


def current_permission(center_name: str, permission_name: str) -> Permission:
    """The caller's codes and ``is_all_data`` for ``(center_name, permission_name)``."""
    authenticate()
    record: AuthRecord = g.get(_G_RECORD)
    return record.permission(center_name, permission_name)


def current_row_filter(
    center_name: str, permission_name: str, *, user_field_name: str = "creator"
) -> dict[str, Any]:
    """The row-level MongoDB filter for the caller (see :func:`row_filter`)."""
    identity = authenticate()
    return row_filter(
        identity.groups,
        current_permission(center_name, permission_name).is_all_data,
        identity.user_name,
        admin_users=auth_settings().admin_users,
        user_field_name=user_field_name,
    )


def current_row_owner(*, user_field_name: str = "creator") -> dict[str, Any]:
    """The owner fields stamped on a document the caller creates under row-level rules.

    ``user_field_name`` gets the caller's user name and ``group_list`` their groups, whatever
    their ``is_all_data``: the creator (and their group) can always see what they create.
    """
    identity = authenticate()
    return {user_field_name: identity.user_name, ROW_GROUP_FIELD: list(identity.groups)}
