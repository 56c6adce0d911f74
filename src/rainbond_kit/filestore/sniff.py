"""What a file really is: its media type read from its first bytes, not from the client.

The signature table is puremagic's (pure Python, no libmagic to install, maintained, header
*and* footer signatures). Files without a signature (plain text, CSV, JSON without a marker)
are recognised as text when their first bytes are valid UTF-8 without NUL; only then is the
client's declared text type believed.
"""

from __future__ import annotations

import codecs

import puremagic

__all__ = ["SNIFF_BYTES", "media_type_of"]

#: how many leading bytes are buffered and examined (puremagic's signatures fit in these)
SNIFF_BYTES = 8192
OCTET_STREAM = "application/octet-stream"
_TEXT_LIKE = frozenset({"application/json", "application/xml", "application/csv"})


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:  # not final: a multi-byte character may be cut at the end of the head
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _text_type(declared: str | None) -> bool:
    if declared is None:
        return False
    return declared.startswith("text/") or declared in _TEXT_LIKE or declared.endswith("+json")


def media_type_of(head: bytes, declared: str | None) -> str:
    """The media type of a file whose first bytes are ``head``.

    A signature match wins over ``declared``; text without a signature keeps a declared text
    type (else ``text/plain``); anything else is ``application/octet-stream``.
    """
    if head:
        try:
            sniffed = puremagic.from_string(head, mime=True)
        except puremagic.PureError:
            sniffed = ""
        if sniffed:
            return sniffed.lower()
    if _looks_like_text(head):
        return declared if declared is not None and _text_type(declared) else "text/plain"
    return OCTET_STREAM
