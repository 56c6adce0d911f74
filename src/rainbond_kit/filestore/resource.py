"""``FileResource``: a GridFS bucket as a REST resource (upload, list, read, download, delete).

::

    class Attachments(FileResource):
        BUCKET = "attachments"
        METADATA_SCHEMA = AttachmentSchema
        MAX_SIZE = 50 * 1024 * 1024
        ALLOWED_TYPES = frozenset({"application/pdf", "image/png", "text/plain"})

    blp = Blueprint("files", __name__, url_prefix="/api/v1/files")
    Attachments.register(blp)

Routes: ``GET /`` (list: the kit's query language over the file documents), ``POST /``
(multipart upload), ``GET|DELETE /<id>`` (the file document), ``GET|HEAD /<id>/content``
(the bytes). A file resource *is* a :class:`~rainbond_kit.resource.ResourceView` over the
bucket's ``<bucket>.files`` collection: paging, soft delete, permissions, row-level scope and
rate limits are the resource machinery's, not copies.

The file document keeps GridFS's fields (``filename``, ``length``, ``chunkSize``,
``uploadDate``) and adds, at top level so the query language filters and sorts them like any
resource field: ``media_type``, ``sha256``, ``uploader``, ``creation_time``/``update_time``,
the metadata fields, and ``remove_time`` when soft-deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint
from gridfs import GridFSBucket
from pymongo.collection import Collection
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict
from werkzeug.wsgi import get_input_stream

from rainbond_kit.auth.context import peek_identity
from rainbond_kit.data.documents import object_id
from rainbond_kit.data.epoch import utcnow
from rainbond_kit.data.store_errors import store_errors
from rainbond_kit.errors import BadRequestError, http_error
from rainbond_kit.extension_state import get_container
from rainbond_kit.filestore.download import send_grid_file
from rainbond_kit.filestore.schemas import content_responses, file_schema, upload_request_body
from rainbond_kit.filestore.upload import UploadLimits, receive_upload, too_large
from rainbond_kit.i18n import DocText
from rainbond_kit.resource import ResourceView
from rainbond_kit.resource.errordocs import resource_errors
from rainbond_kit.resource.etags import refuse_none_match
from rainbond_kit.resource.openapi import document_operations
from rainbond_kit.resource.options import check_options
from rainbond_kit.resource.references import check_references, with_references
from rainbond_kit.resource.routes import (
    access_decorators,
    add_view,
    collection_verbs,
    item_verbs,
    register_hooks,
    view_parts,
)

__all__ = ["FileResource"]

#: multipart framing and metadata allowed on top of ``MAX_SIZE`` before a body is refused
#: from its ``Content-Length`` alone
FORM_OVERHEAD = 1024 * 1024
ALL_FILE_OPERATIONS = frozenset({"list", "upload", "read", "content", "delete"})


class FileResource(ResourceView):
    """Base class of a GridFS-backed file resource; subclass and set the UPPER-case attributes."""

    #: GridFS bucket name (collections ``<BUCKET>.files`` and ``<BUCKET>.chunks``) (required)
    BUCKET: ClassVar[str]
    #: marshmallow schema of the form fields sent with the file (validated, stored, filterable)
    METADATA_SCHEMA: ClassVar[type[ma.Schema] | None] = None
    #: largest accepted file, in bytes: a bigger upload is a 413 and nothing is stored
    MAX_SIZE: ClassVar[int] = 64 * 1024 * 1024
    #: media types accepted, checked against the file's signature (``None``: any)
    ALLOWED_TYPES: ClassVar[frozenset[str] | None] = None
    #: GridFS chunk size in bytes (GridFS's default, 255 KiB)
    CHUNK_SIZE: ClassVar[int] = 255 * 1024
    #: name of the multipart part carrying the file
    FILE_FIELD: ClassVar[str] = "file"
    #: ``Content-Disposition: attachment`` (``False``: ``inline``, e.g. for players)
    ATTACHMENT: ClassVar[bool] = True
    #: ``GET .../content`` needs the download code (16) instead of view (1) with ``PERMISSION``
    DOWNLOAD_PERMISSION: ClassVar[bool] = True
    OPERATIONS: ClassVar[frozenset[str]] = ALL_FILE_OPERATIONS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        bucket = cls.__dict__.get("BUCKET")
        if bucket is not None:
            cls.COLLECTION = f"{bucket}.files"
        if bucket is not None or "METADATA_SCHEMA" in cls.__dict__:
            cls.SCHEMA = file_schema(cls.METADATA_SCHEMA, cls.__name__)

    # --- services ---------------------------------------------------------------------------

    @property
    def bucket(self) -> GridFSBucket:
        """The GridFS bucket of this resource (over the app's pooled client)."""
        return GridFSBucket(
            get_container().mongo_db(), bucket_name=self.BUCKET, chunk_size_bytes=self.CHUNK_SIZE
        )

    @property
    def _root(self) -> Collection[Any]:
        root: Collection[Any] = get_container().mongo_db()[self.BUCKET]
        return root

    # --- operations (override to customise) -------------------------------------------------

    def upload_file(self) -> dict[str, Any]:
        """Stream the request's file into GridFS and return its public document."""
        limits = UploadLimits(self.MAX_SIZE, self.ALLOWED_TYPES, self.CHUNK_SIZE, self.FILE_FIELD)
        boundary = _boundary()
        if (request.content_length or 0) > self.MAX_SIZE + FORM_OVERHEAD:
            raise too_large(limits)  # refused before a byte is read
        # the app-wide MAX_CONTENT_LENGTH is for JSON bodies; a file route has its own cap
        stream = get_input_stream(request.environ, max_content_length=self.MAX_SIZE + FORM_OVERHEAD)
        received = receive_upload(stream.read, boundary, self._root, limits)
        try:
            now = utcnow()
            identity = peek_identity()
            metadata = self._metadata(received.fields)
            self.check_references(metadata)  # 422 naming the field, as a resource's create does
            doc = self.before_insert(metadata)
            doc.update(media_type=received.media_type, sha256=received.sha256)
            doc.update(uploader=identity.user_name if identity is not None else None)
            doc.update(creation_time=now, update_time=now)
            # owner (ROW_LEVEL_FIELD, group_list) and tenant fields, whatever the form says,
            # as a resource's create stamps them
            doc.update(self.owner_fields())
            doc.update(self._stamped())
            file_id = received.commit(doc)
        except BaseException:
            received.abort()
            raise
        return self.read_item(str(file_id))

    def delete_item(self, item_id: str) -> None:
        """Soft delete (``SOFT_DELETE``, chunks kept) or remove the document and its chunks.

        The file document goes as a resource's does: one write conditioned on the scope and,
        with ``ETAG``, the ``If-Match`` version (404, 412); the chunks follow (as GridFS's own
        delete orders it).
        """
        super().delete_item(item_id)
        if not self.SOFT_DELETE:
            with store_errors():
                self._root["chunks"].delete_many({"files_id": object_id(item_id)})

    def send_content(self, item_id: str) -> Response:
        """The file's bytes (``Range``, ``ETag``, 304 handled)."""
        doc = self._read(item_id)
        return send_grid_file(
            self.bucket, object_id(doc["id"]), filename=doc["filename"],
            media_type=doc.get("media_type") or "application/octet-stream", length=doc["length"],
            etag=doc.get("sha256"), attachment=self.ATTACHMENT,
        )  # fmt: skip

    def check_references(self, data: Mapping[str, Any]) -> None:
        """422 naming a ``REFERENCES`` metadata field (under ``errors.form``) whose id is not
        live in the uploader's scope."""
        check_references(self, data, location="form")

    # --- internals --------------------------------------------------------------------------

    def _metadata(self, fields: MultiDict[str, str]) -> dict[str, Any]:
        schema_cls = self.METADATA_SCHEMA
        if schema_cls is None:
            if fields:
                raise http_error(
                    422,
                    "unexpected form fields",
                    errors={"form": {key: ["Unknown field."] for key in fields}},
                )
            return {}
        schema = schema_cls()
        try:
            loaded: dict[str, Any] = schema.load(MultiDictProxy(fields, schema))
        except ma.ValidationError as exc:
            raise http_error(422, "invalid metadata", errors={"form": exc.messages}) from None
        return loaded

    # --- registration -----------------------------------------------------------------------

    @classmethod
    def register(cls, blp: Blueprint, url: str = "/", *, name: str | None = None) -> None:
        """Add the routes to ``blp``: ``url``, ``url/<item_id>`` and ``url/<item_id>/content``."""
        name = name or cls.__name__
        check_options(
            cls, ALL_FILE_OPERATIONS
        )  # as a resource's (ROW_LEVEL_FIELD needs PERMISSION)
        out, spec, attrs = with_references(cls, view_parts(cls, blp, name))
        base = url.rstrip("/")
        ops = cls.OPERATIONS
        # list and read are the resource's own verbs; upload, delete and content are the files'
        listing = collection_verbs(blp, cls, out, name, ops & {"list"})
        upload, reading = (
            _upload_verb(blp, cls, out, ops),
            item_verbs(blp, cls, out, name, ops & {"read"}),
        )
        deleting = _delete_verb(blp, cls, ops)
        content_get = _content_verb(blp, cls) if "content" in ops else None
        generated = {"list": listing.get("get"), "upload": upload.get("post"), "read": reading.get("get"),
                     "delete": deleting.get("delete"), "content": content_get}  # fmt: skip
        document_operations(cls, name, spec, {op: f for op, f in generated.items() if f})
        verbs = {**listing, **upload}
        if verbs:
            root = base if blp.url_prefix else base or "/"
            add_view(blp, cls, f"{name}Collection", root, {**attrs, **verbs})
        verbs = {**reading, **deleting}
        if verbs:
            add_view(blp, cls, f"{name}Item", f"{base}/<item_id>", {**attrs, **verbs})
        if "content" in ops:
            content = {
                **attrs,
                "get": content_get,
                "decorators": [
                    *cls.decorators,
                    *access_decorators(cls, download=cls.DOWNLOAD_PERMISSION),
                ],
            }
            add_view(blp, cls, f"{name}Content", f"{base}/<item_id>/content", content)
        register_hooks(blp, cls, spec)


def _boundary() -> bytes:
    if request.mimetype != "multipart/form-data":
        raise http_error(415, "send the file as multipart/form-data")
    boundary = request.mimetype_params.get("boundary", "")
    if not boundary or len(boundary) > 200:
        raise BadRequestError("multipart/form-data needs a boundary")
    return boundary.encode("latin-1", "replace")


def _upload_verb(
    blp: Blueprint, cls: type[FileResource], out: type[ma.Schema], ops: frozenset[str]
) -> dict[str, Callable[..., Any]]:
    if "upload" not in ops:
        return {}

    @blp.doc(
        requestBody=upload_request_body(cls.METADATA_SCHEMA, cls.FILE_FIELD),
        description=DocText(
            "Upload one file (part `{field}`, at most {size} bytes) with its metadata fields, "
            "streamed to GridFS.",
            field=cls.FILE_FIELD,
            size=cls.MAX_SIZE,
        ),
    )
    @blp.response(201, out)
    @resource_errors(cls, 400, 413, 415, 422, 503)
    def post(self: FileResource) -> Response:
        return self._item_response(self.upload_file(), 201)

    return {"post": post}


def _delete_verb(
    blp: Blueprint, cls: type[FileResource], ops: frozenset[str]
) -> dict[str, Callable[..., Any]]:
    if "delete" not in ops:
        return {}

    @blp.response(204)
    @resource_errors(cls, 400, 404, 412, 503)
    def delete(self: FileResource, item_id: str) -> Response:
        refuse_none_match(self, item_id)
        self.delete_item(item_id)
        return Response(status=204)

    return {"delete": delete}


def _content_verb(blp: Blueprint, cls: type[FileResource]) -> Callable[..., Any]:
    @blp.doc(
        description=DocText("The file's bytes, streamed; `HEAD` gives the headers only."),
        **content_responses(),
    )
    @resource_errors(cls, 400, 404, 416, 503)
    def get(self: FileResource, item_id: str) -> Response:
        return self.send_content(item_id)

    verb: Callable[..., Any] = get
    return verb
