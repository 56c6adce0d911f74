"""Collection names <-> dump file names, as mongodump writes and mongorestore reads them.

mongodump percent-escapes a collection name into its file stem with Go's ``net/url``
(``mongodump/prepare.go`` ``outputPath``; ``common/util`` ``EscapeCollectionName``), and
mongorestore unescapes the stem (``mongorestore/filepath.go`` ``getInfoFromFile``). Two
generations of the tools differ: the 100.x releases that introduced escaping used
``url.QueryEscape``/``QueryUnescape`` (space <-> ``+``), current ones use
``url.PathEscape``/``PathUnescape`` (``+`` is kept literally, space is ``%20``).

:func:`escape_collection_name` writes what *both* generations read back as the same name:
``url.QueryEscape``'s output (every byte outside ``A-Z a-z 0-9 - _ . ~`` as ``%XX``,
upper-case hex, so ``c++`` -> ``c%2B%2B`` and ``订单`` -> ``%E8%AE%A2%E5%8D%95``), except
that a space is written ``%20`` rather than ``+`` (``QueryUnescape`` and ``PathUnescape``
both read ``%20`` as a space; only ``QueryUnescape`` reads ``+`` as one).

A stem longer than 238 bytes (so that ``<stem>.metadata.json.gz`` fits in 255) becomes
its first 208 bytes + ``%24`` + the unpadded URL-safe base64 SHA-1 of the name; the
reader then takes the name from the metadata file's ``collectionName``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import quote

__all__ = [
    "MAX_STEM_BYTES",
    "collection_file_stem",
    "escape_collection_name",
    "is_truncated_stem",
    "unescape_collection_name",
]

#: Longest stem mongodump writes: 255 - len(".metadata.json.gz").
MAX_STEM_BYTES = 238
_TRUNCATED_PREFIX = 208
_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


def escape_collection_name(name: str) -> str:
    """``url.QueryEscape(name)`` with a space as ``%20`` (see the module docstring)."""
    return quote(name, safe="")


def collection_file_stem(name: str) -> str:
    """The file stem mongodump gives collection ``name`` (escaped; long names shortened)."""
    escaped = escape_collection_name(name)
    if len(escaped) <= MAX_STEM_BYTES:
        return escaped
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).digest()
    tag = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return f"{escaped[:_TRUNCATED_PREFIX]}%24{tag}"


def is_truncated_stem(stem: str) -> bool:
    """Whether mongorestore would take the name from the metadata file (``filepath.go``)."""
    return "%24" in stem and len(stem.encode()) == MAX_STEM_BYTES


def unescape_collection_name(stem: str, *, plus_is_space: bool = False) -> str:
    """Undo the escaping of a stem; ``+`` stays ``+`` unless ``plus_is_space`` (QueryUnescape).

    :raises ValueError: a ``%`` not followed by two hex digits (Go's unescape refuses
        those too), or bytes that are not UTF-8.
    """
    raw = stem.encode()
    if raw.count(b"%") != len(_PERCENT.findall(raw)):
        raise ValueError(f"invalid %-escape in {stem!r}")
    if plus_is_space:
        raw = raw.replace(b"+", b" ")
    decoded = _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    return decoded.decode("utf-8")
