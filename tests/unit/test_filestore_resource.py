"""FileResource declarations and their OpenAPI document (no stores needed)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask_smorest import Blueprint
from openapi_spec_validator import validate

from rainbond_kit import FileResource, get_api


class Meta(ma.Schema):
    book_id = ma.fields.String(required=True)
    pages = ma.fields.Integer()


class Docs(FileResource):
    BUCKET = "docs"
    METADATA_SCHEMA = Meta


def _spec(app: Flask) -> dict[str, Any]:
    blueprint = Blueprint("docs", __name__, url_prefix="/docs-files")
    Docs.register(blueprint)
    get_api(app).register_blueprint(blueprint)
    spec: dict[str, Any] = get_api(app).spec.to_dict()
    return spec


def test_bucket_names_the_files_collection() -> None:
    """BUCKET sets the collection the resource machinery reads: ``<bucket>.files``."""
    assert Docs.COLLECTION == "docs.files"
    assert {"filename", "length", "media_type", "sha256", "uploader", "book_id", "pages"} <= set(
        Docs.SCHEMA().fields
    )


def test_metadata_may_not_shadow_file_fields() -> None:
    """A metadata schema declaring a file document field is refused when the class is made."""

    class Clash(ma.Schema):
        length = ma.fields.Integer()

    with pytest.raises(ValueError, match="reserved fields: \\['length'\\]"):
        type("Bad", (FileResource,), {"BUCKET": "bad", "METADATA_SCHEMA": Clash})


def test_openapi_documents_upload_download_and_ranges(bare_app: Flask) -> None:
    """The document is valid and says what Swagger UI needs: a multipart body with a binary
    file part and the metadata fields, binary 200/206 responses, Range and If-None-Match."""
    spec = _spec(bare_app)
    validate(spec)
    upload = spec["paths"]["/docs-files"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert form["properties"]["pages"]["type"] == "integer"
    assert form["required"] == ["file", "book_id"]
    assert {"201", "413", "415", "422"} <= set(upload["responses"])
    content = spec["paths"]["/docs-files/{item_id}/content"]["get"]
    assert {p["name"] for p in content["parameters"] if p["in"] == "header"} == {
        "Range",
        "If-None-Match",
    }
    assert content["responses"]["206"]["content"]["*/*"]["schema"]["format"] == "binary"
    assert {"200", "206", "304", "404", "416"} <= set(content["responses"])
    item = spec["paths"]["/docs-files/{item_id}"]
    assert set(item) >= {"get", "delete"}
    assert "book_id" in {p["name"] for p in spec["paths"]["/docs-files"]["get"]["parameters"]}
