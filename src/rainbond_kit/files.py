"""File responses that cannot escape their directory: downloads, media streams, zips.

Every function takes a trusted base directory and a (possibly client-supplied) name and
refuses anything that would leave the base: ``..`` segments, absolute paths, their
percent-encoded forms (``%2e%2e``), NUL bytes, and symlinks whose target lies outside.
Refusal is a 400 envelope, a missing file a 404; neither message names a server path.

Files are streamed, never read whole into memory: Werkzeug wraps the open file (the WSGI
server's ``file_wrapper``, i.e. ``sendfile``, under gunicorn) and answers ``Range`` with
``206 Partial Content`` and ``If-Modified-Since``/``If-None-Match`` with ``304``, so
browsers resume downloads and video players seek. Directory zips are generated chunk by
chunk with zipstream-ng while the response is sent.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import quote, unquote

import flask
from werkzeug.security import safe_join
from zipstream import ZipStream

from rainbond_kit.errors import BadRequestError, ConflictError, NotFoundError

__all__ = [
    "content_disposition",
    "resolve_inside",
    "send_download",
    "stream_directory_zip",
    "stream_file",
]

log = logging.getLogger("rainbond_kit.files")

StrPath = str | os.PathLike[str]

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._()+ -]+")
# Longest name part and whole relative name accepted (bytes, as the file system counts).
_NAME_MAX = 255
_PATH_MAX = 4096
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")


def content_disposition(filename: str, *, attachment: bool = True) -> str:
    """``Content-Disposition`` value with an ASCII ``filename`` and a UTF-8 ``filename*``.

    >>> content_disposition("报告 2024.pdf")
    'attachment; filename="2024.pdf"; filename*=UTF-8\\'\\'%E6%8A%A5%E5%91%8A%202024.pdf'
    """
    kind = "attachment" if attachment else "inline"
    decomposed = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = _UNSAFE_ASCII.sub("_", decomposed).strip(" _") or "download"
    if fallback.startswith("."):
        fallback = "download" + fallback
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _too_long(name: str) -> bool:
    """True when the file system would refuse ``name`` as too long (ENAMETOOLONG)."""
    encoded = name.encode("utf-8", "surrogateescape")
    return len(encoded) > _PATH_MAX or any(
        len(part) > _NAME_MAX for part in re.split(rb"[/\\]", encoded)
    )


def _inside(base: str, path: str) -> bool:
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


def resolve_inside(directory: StrPath, name: str) -> Path:
    """Return the real path of ``name`` under ``directory``, refusing any escape.

    The returned path may not exist; callers check.

    :raises BadRequestError: ``name`` is empty, absolute, contains ``..`` (plain or
        percent-encoded) or NUL, or resolves (through a symlink) outside ``directory``.
    """
    refused = BadRequestError("file name not allowed", errors={"name": ["Not allowed."]})
    if not isinstance(name, str) or not name or "\x00" in name or _too_long(name):
        raise refused
    base = os.path.realpath(directory)
    for candidate in {name, unquote(name)}:
        if "\x00" in candidate or safe_join(base, candidate) is None:
            raise refused
    real = os.path.realpath(os.path.join(base, name))
    if not _inside(base, real):
        log.warning("refused a file name that resolves outside its directory")
        raise refused
    return Path(real)


def _existing_file(directory: StrPath, name: str) -> Path:
    path = resolve_inside(directory, name)
    if not path.is_file():
        raise NotFoundError("file not found")
    return path


def _send(path: Path, download_name: str, *, attachment: bool) -> flask.Response:
    mimetype = mimetypes.guess_type(download_name)[0] or "application/octet-stream"
    response = flask.send_file(path, mimetype=mimetype, conditional=True, etag=True)
    response.headers["Content-Disposition"] = content_disposition(
        download_name, attachment=attachment
    )
    return response


def send_download(
    directory: StrPath, name: str, *, download_name: str | None = None
) -> flask.Response:
    """Send ``directory/name`` as an attachment (``Range`` and ``304`` supported).

    :param download_name: the file name the browser saves; default ``name``'s last part.
    :raises BadRequestError: ``name`` would leave ``directory``.
    :raises NotFoundError: there is no such regular file.
    """
    path = _existing_file(directory, name)
    return _send(path, download_name or path.name, attachment=True)


def stream_file(
    directory: StrPath,
    name: str,
    *,
    as_attachment: bool = False,
    download_name: str | None = None,
) -> flask.Response:
    """Stream ``directory/name`` inline with its media type, for players that seek.

    The body is the open file wrapped for the WSGI server (never read whole); a ``Range``
    request gets ``206`` with exactly the asked bytes.

    :raises BadRequestError: ``name`` would leave ``directory``.
    :raises NotFoundError: there is no such regular file.
    """
    path = _existing_file(directory, name)
    return _send(path, download_name or path.name, attachment=as_attachment)


def _plain_name(name: str) -> str:
    if (
        not isinstance(name, str)
        or name in {"", ".", ".."}
        or any(char in name for char in "/\\\x00")
        or _too_long(name)
    ):
        raise BadRequestError(
            "zip name must be a plain file name", errors={"zip_name": ["Invalid."]}
        )
    return name


def _zip_of(root: str, *, compress: bool) -> ZipStream:
    """Queue every regular file under ``root``; symlinks leading outside are left out."""
    stream = ZipStream(
        compress_type=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED,
        sized=not compress,
    )
    for current, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        relative_dir = os.path.relpath(current, root)
        if relative_dir != "." and not dirnames and not filenames:
            stream.mkdir(Path(relative_dir).as_posix())
        for filename in sorted(filenames):
            real = os.path.realpath(os.path.join(current, filename))
            if not _inside(root, real) or not os.path.isfile(real):
                log.warning("left a link that leads outside the directory out of a zip")
                continue
            arcname = Path(os.path.relpath(os.path.join(current, filename), root)).as_posix()
            stream.add_path(real, arcname)
    return stream


def stream_directory_zip(
    dir_path: StrPath,
    zip_name: str,
    *,
    save_to: StrPath | None = None,
    compress: bool = True,
) -> flask.Response:
    """Send ``dir_path`` as a zip built while it is sent (memory stays flat).

    :param save_to: also keep the zip as ``save_to/zip_name`` (written chunk by chunk
        through a temporary file, then renamed); the response then serves that file,
        with ``Range`` support. Because ``zip_name`` may come from a client, the saved
        name must end in ``.zip`` and may only replace an earlier zip: any other existing
        file (or folder) of that name is left alone and the call is a 409.
    :param compress: deflate entries; ``False`` stores them and sends ``Content-Length``.
    :raises NotFoundError: ``dir_path`` is not a directory.
    :raises BadRequestError: ``zip_name`` is not a plain file name.
    """
    _plain_name(zip_name)
    root = os.path.realpath(dir_path)
    if not os.path.isdir(root):
        raise NotFoundError("directory not found")
    stream = _zip_of(root, compress=compress)
    if save_to is not None:
        target = Path(os.path.realpath(save_to)) / zip_name
        _check_replaceable(target)
        _write_atomically(stream, target)
        return _send(target, zip_name, attachment=True)
    response = flask.current_app.response_class(
        iter(stream), mimetype="application/zip", direct_passthrough=True
    )
    response.headers["Content-Disposition"] = content_disposition(zip_name)
    if not compress:
        response.content_length = len(stream)
    return response


def _check_replaceable(target: Path) -> None:
    """Refuse a saved-zip name that could overwrite anything but an earlier zip."""
    if not target.name.lower().endswith(".zip"):
        raise BadRequestError(
            "a saved zip's name must end in .zip", errors={"zip_name": ["Must end in .zip."]}
        )
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_file() or not _is_zip(target):
        raise ConflictError(
            "a file of that name exists and is not a zip; it was left unchanged",
            errors={"zip_name": ["Already taken by another file."]},
        )


def _is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) in _ZIP_SIGNATURES


def _write_atomically(stream: ZipStream, target: Path) -> None:
    if not target.parent.is_dir():
        raise NotFoundError("directory not found")
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as output:
            for chunk in stream:
                output.write(chunk)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
