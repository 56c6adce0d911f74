"""The conditional-request headers of a resource: ``If-Match`` (writes) and ``If-None-Match``
(reads), over the strong ETags ``"<version>"`` that ``ResourceView`` sends (RFC 9110 13.1)."""

from __future__ import annotations

from flask import request

from rainbond_kit.errors import PreconditionFailedError

__all__ = ["if_match_version", "none_match"]


def none_match(etag: str) -> bool:
    """Whether ``If-None-Match`` lists ``etag`` (weak comparison, RFC 9110 13.1.2) or ``*``."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def if_match_version() -> int | None:
    """The version ``If-Match`` names (``None``: no condition); 412 for anything else than
    one strong ETag of a resource (``W/`` tags are refused, RFC 9110 13.1.1)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip()
    digits = tag[1:-1] if len(tag) > 2 and tag[0] == tag[-1] == '"' else ""
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 18):
        raise PreconditionFailedError("If-Match does not name a current strong ETag")
    return int(digits)
