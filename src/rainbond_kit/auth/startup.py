"""Turning auth on for an app: validate settings at start-up, register permissions."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from dependency_injector import providers
from flask import Flask

from rainbond_kit.auth.container import get_auth_container
from rainbond_kit.auth.registration import register_permissions
from rainbond_kit.auth.settings import AuthSettings

__all__ = ["init_auth"]

log = logging.getLogger("rainbond_kit.auth")

MIN_KEY_BYTES = 64  # HS512's block-size recommendation


def init_auth(
    app: Flask,
    settings: AuthSettings | None = None,
    *,
    per_defaults: Iterable[Mapping[str, Any]] = (),
) -> AuthSettings:
    """Validate the auth settings now (not at the first request) and register permissions.

    Call after ``RainbondKit(app)``. ``settings`` default: read from the environment.

    :raises ConfigurationError: a variable is missing or malformed (the message names it).
    :raises RegistrationError: the auth center's MongoDB cannot take the registration.
    """
    settings = settings or AuthSettings.from_env()
    container = get_auth_container(app)
    container.settings.override(providers.Object(settings))
    container.cache.reset()
    if len(settings.tokens.secret_key.encode("utf-8")) < MIN_KEY_BYTES:
        log.warning(
            "auth: SECRET_KEY is shorter than %d bytes; tokens are accepted, but rotate it "
            "to a longer random key in the auth center",
            MIN_KEY_BYTES,
        )
    if settings.debug_user is not None:
        log.warning(
            "auth: RAINBOND_AUTH_DEBUG_USER is set: every request is authenticated as %r "
            "with every permission. Never set it in production.",
            settings.debug_user.user_name,
        )
    specs = list(per_defaults)
    if specs:
        register_permissions(container.db(), settings, specs)
    return settings
