"""rainbond-python's ``download`` helpers over :mod:`rainbond_kit.files`.

Fixed: ``download_flow`` can no longer be steered outside ``file_path`` (``../``, absolute,
encoded and symlinked names get a 400); errors no longer contain server paths; directory
zips are streamed instead of built in memory; ``Range`` requests get ``206``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Response

from rainbond_kit.extension_state import get_container
from rainbond_kit.files import send_download, stream_directory_zip, stream_file
from rainbond_kit.filestore import send_bucket_file

__all__ = ["download_directory", "download_file", "download_flow", "download_gridfs"]


def download_file(file_path: str | os.PathLike[str], file_name: str) -> Response:
    """Send ``file_path/file_name`` as an attachment (UTF-8 file names kept)."""
    return send_download(file_path, file_name)


def download_flow(file_path: str | os.PathLike[str], file_name: str) -> Response:
    """Stream ``file_path/file_name`` in chunks, seekable with ``Range`` (media files)."""
    return stream_file(file_path, file_name, as_attachment=True)


def download_directory(
    dir_path: str | os.PathLike[str], zip_name: str, save_zip: bool = False
) -> Response:
    """Send ``dir_path`` as the zip ``zip_name``; ``save_zip`` also keeps it beside ``dir_path``."""
    save_to = Path(os.path.realpath(dir_path)).parent if save_zip else None
    return stream_directory_zip(dir_path, zip_name, save_to=save_to)


def download_gridfs(
    file_id: str, bucket: str = "fs", *, file_name: str | None = None, as_attachment: bool = True
) -> Response:
    """``download_file`` with GridFS as the source: the file ``file_id`` of ``bucket`` in the
    app's database, so every replica can serve it (``Range``, ``ETag`` and 304 supported).
    """
    database = get_container().mongo_db()
    return send_bucket_file(
        database, bucket, file_id, download_name=file_name, attachment=as_attachment
    )
