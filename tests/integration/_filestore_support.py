"""Shared pieces of the file-store integration tests: multipart bodies and the sample app."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

URL = "/api/v1/files"
BOOK_ID = "5f1d7c0a9b1e8a0001a1b2c3"
CHUNK = 255 * 1024  # GridFS's default chunk size, used by the sample app


def multipart(
    content: bytes,
    *,
    filename: str = "notes.txt",
    content_type: str = "text/plain",
    fields: Iterable[tuple[str, str]] = (("book_id", BOOK_ID),),
    file_field: str = "file",
    fields_first: bool = False,
) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body and its Content-Type header (the file part first by default)."""
    boundary = f"----rk{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    disposition = f'form-data; name="{file_field}"; filename="{filename}"'
    file_part = (
        f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    ordered = [*parts, file_part] if fields_first else [file_part, *parts]
    body = b"".join(ordered) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def text_of(size: int, seed: int = 0) -> bytes:
    """``size`` bytes of text numbering its own lines (so a range shows where it came from)."""
    lines = (f"{seed:04d}:{i:010d}\n".encode() for i in range(size // 16 + 1))
    return b"".join(lines)[:size]
