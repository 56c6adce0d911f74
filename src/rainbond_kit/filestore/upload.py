"""A multipart upload streamed into GridFS: bounded memory, checked while it arrives.

The request body is read in 64 KiB pieces and fed to Werkzeug's sans-IO
:class:`~werkzeug.sansio.multipart.MultipartDecoder` (the parser behind ``request.files``,
without its spooling: every piece of the file part goes straight to a GridFS upload stream).
On the way the bytes are counted (over the cap: 413 at once, the rest is not read), hashed
(SHA-256) and the first :data:`~rainbond_kit.filestore.sniff.SNIFF_BYTES` examined (a type
outside the allow-list: 415 at once). Form fields (the metadata) are small and kept.

Any failure -- a cap, a refused type, a truncated body, invalid metadata, a driver error --
aborts the GridFS upload stream, which deletes the chunks already written: nothing is left
behind. The file document is written only by :meth:`ReceivedFile.commit`.
"""

from __future__ import annotations

import hashlib
import logging
import ntpath
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pymongo.errors
from gridfs.grid_file import GridIn
from pymongo.collection import Collection
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Field,
    File,
    MultipartDecoder,
    NeedData,
)

from rainbond_kit.errors import BadRequestError, http_error
from rainbond_kit.filestore.sniff import SNIFF_BYTES, media_type_of

__all__ = ["ReceivedFile", "UploadLimits", "receive_upload"]

log = logging.getLogger("rainbond_kit.filestore")

READ_SIZE = 64 * 1024
#: chunk bytes buffered before one ``insert_many``. pymongo (4.7+) buffers up to 48 MB per
#: upload stream; bounded here so an upload's memory stays small and chunks reach the server
#: as they arrive
FLUSH_BYTES = 1024 * 1024
#: longest file name kept (UTF-8 bytes, what file systems allow): a longer one would come back
#: twice in every download's ``Content-Disposition``, past the header size proxies accept
MAX_NAME_BYTES = 255


class _StreamingGridIn(GridIn):
    """pymongo's GridFS upload stream, flushing chunks every :data:`FLUSH_BYTES`."""

    def _flush_data(self, data: Any, force: bool = False) -> None:
        super()._flush_data(data, force or self._buffered_docs_size >= FLUSH_BYTES)


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may be."""

    max_size: int
    allowed_types: frozenset[str] | None
    chunk_size: int
    file_field: str = "file"
    max_field_size: int = 64 * 1024
    max_parts: int = 64


@dataclass
class ReceivedFile:
    """A file streamed into GridFS, not yet visible: :meth:`commit` or :meth:`abort` it."""

    grid_in: GridIn
    filename: str
    media_type: str
    length: int
    sha256: str
    fields: MultiDict[str, str] = field(default_factory=MultiDict)

    def commit(self, extra: Mapping[str, Any]) -> Any:
        """Write the file document with ``extra`` top-level fields; return the file id."""
        for name, value in extra.items():
            setattr(self.grid_in, name, value)  # GridIn keeps unknown attributes as fields
        self.grid_in.close()
        return self.grid_in._id

    def abort(self) -> None:
        """Delete every chunk written so far (idempotent)."""
        _abort(self.grid_in)


def _abort(grid_in: GridIn) -> None:
    if grid_in.closed:
        return
    try:
        grid_in.abort()
    except pymongo.errors.PyMongoError:  # the store is gone: the original error matters more
        log.warning("could not delete the chunks of an aborted upload %s", grid_in._id)


def too_large(limits: UploadLimits) -> Exception:
    return http_error(413, f"the file is larger than {limits.max_size} bytes")


def _pieces(read: Callable[[int], bytes]) -> Iterator[bytes | None]:
    while piece := read(READ_SIZE):
        yield piece
    yield None  # end of the body


class _FileSink:
    """Receives the file part's bytes: caps, sniffs, hashes and writes them to GridFS."""

    def __init__(self, bucket: Collection[Any], part: File, limits: UploadLimits) -> None:
        self.limits = limits
        self.filename = ntpath.basename(part.filename)  # old browsers send C:\\dir\\name
        self.declared = part.headers.get("Content-Type")
        # what GridFSBucket.open_upload_stream builds, with bounded chunk buffering
        self.grid_in = _StreamingGridIn(
            bucket, filename=self.filename, chunk_size=limits.chunk_size
        )
        self.digest = hashlib.sha256()
        self.length = 0
        self.head = bytearray()
        self.media_type: str | None = None

    def write(self, data: bytes) -> None:
        self.length += len(data)
        if self.length > self.limits.max_size:
            raise too_large(self.limits)
        self.digest.update(data)
        if self.media_type is None:
            self.head += data
            if len(self.head) >= SNIFF_BYTES:
                self._check_type()
            return
        self.grid_in.write(data)

    def _check_type(self) -> None:
        media_type = media_type_of(bytes(self.head[:SNIFF_BYTES]), self.declared)
        allowed = self.limits.allowed_types
        if allowed is not None and media_type not in allowed:
            raise http_error(
                415,
                f"files of type {media_type} are not accepted",
                errors={self.limits.file_field: [f"Allowed types: {', '.join(sorted(allowed))}."]},
            )
        self.media_type = media_type
        self.grid_in.write(bytes(self.head))
        self.head = bytearray()

    def finish(self, fields: MultiDict[str, str]) -> ReceivedFile:
        if self.media_type is None:
            self._check_type()
        assert self.media_type is not None
        return ReceivedFile(
            self.grid_in, self.filename, self.media_type, self.length,
            self.digest.hexdigest(), fields,
        )  # fmt: skip

    def abort(self) -> None:
        _abort(self.grid_in)


def receive_upload(
    read: Callable[[int], bytes], boundary: bytes, bucket: Collection[Any], limits: UploadLimits
) -> ReceivedFile:
    """Stream a ``multipart/form-data`` body with exactly one file part into the GridFS bucket
    whose root collection (``db[bucket_name]``) is ``bucket``.

    :raises HTTPError: 400 (malformed or truncated body, no file, several files), 413 (over
        ``max_size``, a field or too many parts), 415 (type not allowed). Nothing is left in
        GridFS when it raises.
    """
    # the decoder's own bound is on its unparsed buffer (headers, a partial boundary): one
    # read plus a field; field values are bounded below
    decoder = MultipartDecoder(
        boundary,
        max_form_memory_size=limits.max_field_size + 2 * READ_SIZE,
        max_parts=limits.max_parts,
    )
    fields: MultiDict[str, str] = MultiDict()
    sink: _FileSink | None = None
    current: Field | File | None = None
    value = bytearray()
    finished = False
    try:
        for piece in _pieces(read):
            decoder.receive_data(piece)
            event = decoder.next_event()
            while not isinstance(event, NeedData | Epilogue):
                if isinstance(event, File):
                    if event.name != limits.file_field or sink is not None:
                        raise _bad(f"send exactly one file, in the part {limits.file_field!r}")
                    name = ntpath.basename(event.filename)
                    if not name.strip():
                        raise _bad("the file part needs a file name")
                    if len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
                        raise _bad(f"the file name is longer than {MAX_NAME_BYTES} bytes (UTF-8)")
                    current = event
                    sink = _FileSink(bucket, event, limits)
                elif isinstance(event, Field):
                    current = event
                    value = bytearray()
                elif isinstance(event, Data):
                    if isinstance(current, File):
                        assert sink is not None
                        sink.write(event.data)
                    else:
                        value += event.data
                        if len(value) > limits.max_field_size:
                            raise http_error(413, "a form field is too large")
                        if not event.more_data and current is not None:
                            fields.add(current.name, value.decode("utf-8", "replace"))
                event = decoder.next_event()
            if isinstance(event, Epilogue):
                finished = True
                break
        if not finished:
            raise _bad("the upload was cut short")
        if sink is None:
            raise _bad(f"no file in the part {limits.file_field!r}")
        return sink.finish(fields)
    except RequestEntityTooLarge:
        if sink is not None:
            sink.abort()
        if current is None:  # no part started: the boundary never appeared
            raise _bad("malformed multipart body") from None
        raise http_error(413, "the request body is too large") from None
    except ValueError:  # the decoder's "malformed multipart"
        if sink is not None:
            sink.abort()
        raise _bad("malformed multipart body") from None
    except BaseException:
        if sink is not None:
            sink.abort()
        raise


def _bad(message: str) -> Exception:
    return BadRequestError(message, errors={"body": [message]})
