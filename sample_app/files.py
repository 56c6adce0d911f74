"""Book attachments at ``/api/v1/files``: files in GridFS, shared by every replica."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from rainbond_kit import FileResource
from sample_app.books import CENTER_NAME, PERMISSION_NAME


class AttachmentSchema(ma.Schema):
    """What an attachment says about itself: the book it belongs to and a caption."""

    book_id = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^[0-9a-f]{24}$"),
        metadata={"description": "id of the book"},
    )  # fmt: skip
    caption = ma.fields.String(validate=ma.validate.Length(max=200))


class Attachments(FileResource):
    """Upload, list, download and (soft) delete book attachments."""

    BUCKET = "attachments"
    METADATA_SCHEMA = AttachmentSchema
    MAX_SIZE = 32 * 1024 * 1024
    ALLOWED_TYPES = frozenset({
        "application/pdf", "application/epub+zip", "image/png", "image/jpeg", "image/gif",
        "image/webp", "text/plain", "text/markdown", "text/csv",
    })  # fmt: skip


class SecuredAttachments(Attachments):
    """The same resource behind the auth center (downloads need the download code, 16)."""

    PERMISSION = (CENTER_NAME, PERMISSION_NAME)


def make_blueprint(*, secured: bool = False) -> Blueprint:
    """The attachments blueprint; ``secured`` puts it behind the auth center."""
    blueprint = Blueprint(
        "files", __name__, url_prefix="/api/v1/files", description="Book attachments (GridFS)"
    )
    (SecuredAttachments if secured else Attachments).register(blueprint, name="Attachments")
    return blueprint
