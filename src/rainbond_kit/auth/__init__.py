"""Auth-center integration: legacy tokens, logins in Redis, permissions in MongoDB.

There is no HTTP call to the auth center: the component shares its signing secret
(``SECRET_KEY``), its Redis database (``REDIS_DB_PERMISSION``) and its MongoDB collections.
See ``docs/auth.md``.
"""

from __future__ import annotations

from rainbond_kit.auth.context import (
    auth_settings,
    authenticate,
    current_identity,
    current_permission,
    current_row_filter,
    current_row_owner,
    peek_identity,
)
from rainbond_kit.auth.decorators import (
    METHOD_CODES,
    login_required,
    permission_required,
    required_codes,
)
from rainbond_kit.auth.identity import Identity, token_from_request
from rainbond_kit.auth.openapi import TOKEN_SECURITY, document_token_security
from rainbond_kit.auth.permissions import Code, Permission, row_filter
from rainbond_kit.auth.registration import RegistrationError, register_permissions
from rainbond_kit.auth.settings import AuthSettings, TokenSettings, auth_from_env
from rainbond_kit.auth.startup import init_auth
from rainbond_kit.auth.tokens import InvalidTokenError, decode_token, mint_token

__all__ = [
    "METHOD_CODES",
    "TOKEN_SECURITY",
    "AuthSettings",
    "Code",
    "Identity",
    "InvalidTokenError",
    "Permission",
    "RegistrationError",
    "TokenSettings",
    "auth_from_env",
    "auth_settings",
    "authenticate",
    "current_identity",
    "current_permission",
    "current_row_filter",
    "current_row_owner",
    "decode_token",
    "document_token_security",
    "init_auth",
    "login_required",
    "mint_token",
    "peek_identity",
    "permission_required",
    "register_permissions",
    "required_codes",
    "row_filter",
    "token_from_request",
]
