"""filestore.sniff: media types come from the bytes; the client's header only names text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rainbond_kit.filestore.sniff import SNIFF_BYTES, media_type_of

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)
GIF = b"GIF89a\x01\x00\x01\x00" + bytes(16)


@pytest.mark.parametrize(
    ("head", "declared", "expected"),
    [
        (PNG, "text/plain", "image/png"),  # the signature beats the header
        (PDF, "image/png", "application/pdf"),
        (JPEG, None, "image/jpeg"),
        (GIF, "application/octet-stream", "image/gif"),
        (
            b"name,age\n\xe5\xbc\xa0\xe4\xb8\x89,3\n",
            "text/csv",
            "text/csv",
        ),  # text keeps a text type
        (b"hello", "image/png", "text/plain"),  # ... but not a binary one
        (b"hello", None, "text/plain"),
        (b"", None, "text/plain"),  # empty is (empty) text
        ("中文".encode()[:-1], "text/plain", "text/plain"),  # a character cut at the end
        (b"\x00\x01\x02\x03binary", "text/plain", "application/octet-stream"),
        (b"\x80\x81 not utf-8", "text/plain", "application/octet-stream"),
    ],
)
def test_media_type_of(head: bytes, declared: str | None, expected: str) -> None:
    """Each head maps to the type its bytes prove, a declared text type only for text."""
    assert media_type_of(head, declared) == expected


@given(st.binary(max_size=SNIFF_BYTES), st.one_of(st.none(), st.text(max_size=40)))
def test_never_raises_and_always_names_a_type(head: bytes, declared: str | None) -> None:
    """Any bytes and any header give a lower-case type/subtype, never an exception."""
    result = media_type_of(head, declared)
    assert "/" in result
    if declared is None or not declared.startswith("text/"):
        assert result == result.lower()
