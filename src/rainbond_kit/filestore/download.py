"""A GridFS file as an HTTP response: streamed, seekable, conditional.

The body is the GridFS download stream wrapped for the WSGI server (one chunk in memory at a
time); Werkzeug's ``make_conditional`` answers ``Range`` (206 with exactly the asked bytes,
416 past the end), ``If-None-Match``/``If-Modified-Since`` (304) and ``If-Range``, the same
machinery :mod:`rainbond_kit.files` uses for local files.

Several ranges in one request (``bytes=0-1,5-6``) are answered with the whole file (200),
which RFC 9110 (14.2) allows: a ``multipart/byteranges`` body is rarely wanted by real
clients (browsers and players ask for one range at a time) and refusing with 416 would break
the download instead of merely not optimising it.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from typing import Any

from flask import Response, current_app, request
from gridfs import GridFSBucket
from gridfs.errors import NoFile
from pymongo.database import Database
from werkzeug.wsgi import wrap_file

from rainbond_kit.data.documents import object_id
from rainbond_kit.errors import NotFoundError
from rainbond_kit.files import content_disposition

__all__ = ["send_bucket_file", "send_grid_file"]


def _environ_for_ranges(length: int) -> dict[str, Any]:
    """The request's environ with its ``Range`` adjusted to what we answer.

    Several ranges: dropped (the whole file). A suffix longer than the file
    (``bytes=-N``, N > length): the whole file as a 206, as RFC 9110 14.1.2 says (Werkzeug
    would refuse it with 416).
    """
    environ: dict[str, Any] = request.environ
    ranges = request.range
    if ranges is None:
        return environ
    if len(ranges.ranges) > 1:
        return {k: v for k, v in environ.items() if k != "HTTP_RANGE"}
    start, end = ranges.ranges[0]
    if end is None and start < 0 and -start > length > 0:
        return {**environ, "HTTP_RANGE": "bytes=0-"}
    return environ


def send_grid_file(
    bucket: GridFSBucket,
    file_id: Any,
    *,
    filename: str,
    media_type: str,
    length: int,
    etag: str | None = None,
    modified: dt.datetime | None = None,
    attachment: bool = True,
) -> Response:
    """Stream the GridFS file ``file_id`` of ``bucket``; ``Range``, ``ETag`` and 304 handled.

    :raises NotFoundError: the file (or one of its chunks' file document) is gone.
    """
    try:
        grid_out = bucket.open_download_stream(file_id)
    except NoFile:
        raise NotFoundError("file not found") from None
    body = wrap_file(request.environ, grid_out, buffer_size=grid_out.chunk_size)
    response = current_app.response_class(body, mimetype=media_type, direct_passthrough=True)
    response.content_length = length
    if etag is not None:
        response.set_etag(etag)
    if modified is not None:
        response.last_modified = modified
    response.headers["Content-Disposition"] = content_disposition(filename, attachment=attachment)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.make_conditional(
        _environ_for_ranges(length), accept_ranges=True, complete_length=length
    )
    return response


def send_bucket_file(
    database: Database[dict[str, Any]],
    bucket_name: str,
    file_id: str,
    *,
    download_name: str | None = None,
    attachment: bool = True,
) -> Response:
    """Stream a live file of any GridFS bucket by id, with no resource around it.

    Files written by other tools work too: without ``media_type`` the type is guessed from
    the name, without ``sha256`` there is no ETag. Soft-deleted files are not found.

    :raises BadRequestError: ``file_id`` is not an ObjectId.
    :raises NotFoundError: no such live file.
    """
    oid = object_id(file_id)
    doc = database[f"{bucket_name}.files"].find_one({"_id": oid, "remove_time": {"$exists": False}})
    if doc is None:
        raise NotFoundError("file not found")
    name = download_name or str(doc.get("filename") or file_id)
    media_type = doc.get("media_type") or mimetypes.guess_type(name)[0]
    return send_grid_file(
        GridFSBucket(database, bucket_name=bucket_name), oid, filename=name,
        media_type=media_type or "application/octet-stream", length=int(doc["length"]),
        etag=doc.get("sha256"), modified=doc.get("uploadDate"), attachment=attachment,
    )  # fmt: skip
