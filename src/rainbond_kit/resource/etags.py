"""The conditional-request headers of a resource: ``If-Match`` (writes) and ``If-None-Match``
(reads: 304; writes: 412), over the strong ETags ``"<version>"`` that ``ResourceView`` sends
(RFC 9110 13.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import request

from rainbond_kit.data.versioned import version_of
from rainbond_kit.errors import PreconditionFailedError

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = ["if_match_version", "none_match", "refuse_none_match"]


def none_match(etag: str | None) -> bool:
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


def refuse_none_match(
    view: ResourceView, item_id: str, doc: Mapping[str, Any] | None = None
) -> None:
    """A write to an existing document under ``If-None-Match``: 412 when the header is ``*``
    (the document exists) or lists its current ETag (``ETAG`` resources); RFC 9110 13.1.2.

    Reads the document (unless given) only when the header is sent; a missing one is the
    usual 404.
    """
    if "If-None-Match" not in request.headers:
        return
    doc = view.read_current(item_id) if doc is None else doc
    if none_match(f'"{version_of(doc)}"' if view.ETAG else None):
        raise PreconditionFailedError("If-None-Match matches the current document")
