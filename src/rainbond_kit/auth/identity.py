"""Who is calling: the frozen :class:`Identity` and where its token comes from."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Request

__all__ = ["Identity", "token_from_request"]

TOKEN_HEADER = "token"  # noqa: S105 - a header name, not a secret


@dataclass(frozen=True)
class Identity:
    """An authenticated auth-center user; ``groups`` feed the row-level filters."""

    uid: str
    user_name: str
    real_name: str
    groups: tuple[str, ...] = ()


def token_from_request(request: Request) -> str | None:
    """The ``token`` header, else ``Authorization: Bearer <token>``; ``None`` when neither."""
    token = request.headers.get(TOKEN_HEADER, "").strip()
    if token:
        return token
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None
