"""Upload an archive as ``multipart/form-data`` with retries and exponential backoff.

The stdlib :mod:`urllib` is used rather than ``requests``: ``requests`` builds a multipart
body in memory, while here the body is a generator over the file (with an exact
``Content-Length``), so a backup of any size uploads in constant memory and no runtime
dependency is added.
"""

from __future__ import annotations

import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from rainbond_kit.backup.errors import UploadError
from rainbond_kit.settings import redact_url

__all__ = ["RETRYABLE_STATUSES", "multipart_body", "upload_archive"]

#: HTTP statuses worth retrying; any other 4xx fails at once.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
CHUNK = 1 << 16


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart_body(
    archive: Path, fields: dict[str, str], boundary: str
) -> tuple[Callable[[], Iterator[bytes]], int]:
    """A factory of body iterators (one per attempt) and the body's exact length in bytes."""
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
        for name, value in fields.items()
    )
    head += (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{_quote(archive.name)}"\r\n'
        "Content-Type: application/gzip\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield head
        with archive.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
        yield tail

    return chunks, len(head) + archive.stat().st_size + len(tail)


def _attempt(url: str, archive: Path, file_dir: str, timeout: float) -> int:
    boundary = f"rainbond-kit-{secrets.token_hex(12)}"
    chunks, length = multipart_body(archive, {"file_dir": file_dir}, boundary)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked to be http(s) at start-up
        url,
        data=chunks(),
        method="POST",
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - see above
        status: int = response.status
        return status


def upload_archive(
    archive: Path,
    url: str,
    *,
    file_dir: str = "",
    retries: int = 3,
    backoff: float = 1.0,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST ``archive`` to ``url`` (parts ``file`` and ``file_dir``); return the HTTP status.

    Connection errors, timeouts and :data:`RETRYABLE_STATUSES` are retried ``retries``
    times, waiting ``backoff``, ``2 * backoff``, ``4 * backoff``... seconds in between.

    :raises UploadError: the last attempt failed, or the server refused the upload (4xx).
    """
    attempts = retries + 1
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            return _attempt(url, archive, file_dir, timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            last = f"HTTP {exc.code} {exc.reason}"
            if exc.code not in RETRYABLE_STATUSES:
                raise UploadError(f"upload to {redact_url(url)} was refused: {last}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            last = str(getattr(reason, "strerror", None) or reason)
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    raise UploadError(f"upload to {redact_url(url)} failed after {attempts} attempts: {last}")
