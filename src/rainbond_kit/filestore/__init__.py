"""File resources on GridFS: streamed uploads, seekable downloads, checksums, permissions.

Named ``filestore`` (not ``gridfs``) so it never shadows pymongo's ``gridfs`` package.
"""

from __future__ import annotations

from rainbond_kit.filestore.download import send_bucket_file as send_bucket_file
from rainbond_kit.filestore.download import send_grid_file as send_grid_file
from rainbond_kit.filestore.resource import FileResource as FileResource

__all__ = ["FileResource", "send_bucket_file", "send_grid_file"]
