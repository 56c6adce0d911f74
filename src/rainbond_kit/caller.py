"""Who is calling, as far as the features know: auth records the user, rate limits key on it.

A slot in ``flask.g`` owned by neither, so ``ratelimit`` does not import ``auth``.
"""

from __future__ import annotations

from flask import g

__all__ = ["caller_key", "set_caller_key"]

_G_CALLER = "_rainbond_caller_key"


def set_caller_key(key: str) -> None:
    """Record the authenticated caller of this request (e.g. ``user:<uid>``)."""
    setattr(g, _G_CALLER, key)


def caller_key() -> str | None:
    """The authenticated caller recorded in this request, or ``None``."""
    key: str | None = g.get(_G_CALLER)
    return key
