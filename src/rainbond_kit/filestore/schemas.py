"""The file document's public schema and the OpenAPI pieces of a file resource."""

from __future__ import annotations

import functools
from typing import Any

import marshmallow as ma
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from rainbond_kit.i18n import DocText

__all__ = [
    "RESERVED_FIELDS",
    "content_responses",
    "file_schema",
    "upload_request_body",
]

#: names a metadata schema may not declare: the file document's own fields
RESERVED_FIELDS = frozenset({
    "id", "_id", "filename", "length", "media_type", "sha256", "uploader", "chunkSize",
    "uploadDate", "metadata", "creation_time", "update_time", "remove_time",
})  # fmt: skip


class _FileFields(ma.Schema):
    filename = ma.fields.String(
        dump_only=True, metadata={"description": DocText("the uploaded name")}
    )
    length = ma.fields.Integer(dump_only=True, metadata={"description": DocText("size in bytes")})
    media_type = ma.fields.String(
        dump_only=True, metadata={"description": DocText("read from the file's signature")}
    )
    sha256 = ma.fields.String(
        dump_only=True, metadata={"description": DocText("hex SHA-256; the ETag")}
    )
    uploader = ma.fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": DocText("user name of the uploader")},
    )


@functools.cache
def file_schema(metadata: type[ma.Schema] | None, name: str) -> type[ma.Schema]:
    """The stored fields of a file plus the resource's metadata fields (flat)."""
    if metadata is None:
        return type(f"{name}FileSchema", (_FileFields,), {})
    clash = RESERVED_FIELDS & set(metadata().fields)
    if clash:
        raise ValueError(f"METADATA_SCHEMA declares reserved fields: {sorted(clash)}")
    return type(f"{name}FileSchema", (_FileFields, metadata), {})


def _form_properties(metadata: type[ma.Schema] | None) -> dict[str, Any]:
    if metadata is None:
        return {"type": "object", "properties": {}}
    spec = APISpec("form", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    plugin = spec.plugins[0]
    assert isinstance(plugin, MarshmallowPlugin)
    assert plugin.converter is not None
    converted: dict[str, Any] = plugin.converter.schema2jsonschema(metadata)  # type: ignore[no-untyped-call]  # apispec is untyped here
    return converted


def upload_request_body(metadata: type[ma.Schema] | None, file_field: str) -> dict[str, Any]:
    """``multipart/form-data``: the binary file part and one part per metadata field."""
    schema = _form_properties(metadata)
    schema["properties"] = {
        file_field: {"type": "string", "format": "binary"},
        **schema.get("properties", {}),
    }
    schema["required"] = [file_field, *schema.get("required", [])]
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


_BINARY = {"schema": {"type": "string", "format": "binary"}}


def content_responses() -> dict[str, Any]:
    """The download's documented headers and success responses (errors are the envelope)."""
    headers = {
        "ETag": {
            "schema": {"type": "string"},
            "description": DocText("quoted SHA-256 of the content"),
        },
        "Content-Disposition": {
            "schema": {"type": "string"},
            "description": DocText("attachment; filename (ASCII) and filename* (UTF-8, RFC 5987)"),
        },
        "Accept-Ranges": {"schema": {"type": "string", "enum": ["bytes"]}},
    }
    return {
        "parameters": [
            {"in": "header", "name": "Range", "required": False, "schema": {"type": "string"},
             "description": DocText("`bytes=first-last`, `bytes=first-` or `bytes=-suffix`; "
                                    "one range (several: the whole file, 200)")},
            {"in": "header", "name": "If-None-Match", "required": False,
             "schema": {"type": "string"}, "description": DocText("the ETag held: 304 if unchanged")},
        ],
        "responses": {
            200: {"description": DocText("the whole file"), "headers": headers,
                  "content": {"*/*": _BINARY}},
            206: {"description": DocText("the requested range"), "headers": {
                      **headers, "Content-Range": {"schema": {"type": "string"}}},
                  "content": {"*/*": _BINARY}},
            304: {"description": DocText("not modified (If-None-Match)")},
        },
    }  # fmt: skip
