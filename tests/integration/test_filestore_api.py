"""File resources as resources: list with the query language, soft/hard delete, permissions."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import pymongo
from flask import Flask
from flask.testing import FlaskClient
from flask_smorest import Blueprint

from rainbond_kit import FileResource, get_api, wait_for_indexes
from tests.conftest import KitAppFactory
from tests.integration._filestore_support import BOOK_ID, URL, multipart, text_of
from tests.integration.auth_support import (  # noqa: F401 - fixture
    CENTER,
    PERM,
    AuthCenter,
    auth_center_fixture,
    make_auth_app,
    unique_name,
)

Client = pymongo.MongoClient[dict[str, Any]]
OTHER_BOOK = "5f1d7c0a9b1e8a0001a1b2c4"
G1 = (("group_list", "g1"),)


def _upload(client: FlaskClient, url: str, content: bytes, **kwargs: Any) -> dict[str, Any]:
    headers = kwargs.pop("headers", {})
    body, content_type = multipart(content, **kwargs)
    response = client.post(url, data=body, content_type=content_type, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith(f"{url}/{response.get_json()['id']}")
    return response.get_json()  # type: ignore[no-any-return]


def test_list_filters_on_metadata_and_pages_with_after(client: FlaskClient) -> None:
    """Metadata fields are filterable; $after walks every page once; totals count the filter."""
    mine = [
        _upload(client, URL, text_of(10 + i), fields=(("book_id", BOOK_ID),))["id"]
        for i in range(5)
    ]
    _upload(client, URL, b"other", fields=(("book_id", OTHER_BOOK),))
    seen: list[str] = []
    query = f"book_id[eq]={BOOK_ID}&$limit=2"
    page = client.get(f"{URL}?{query}").get_json()
    assert page["total"] == 5
    while True:
        seen += [item["id"] for item in page["items"]]
        assert all(item["book_id"] == BOOK_ID for item in page["items"])
        if page["next"] is None:
            break
        page = client.get(f"{URL}?{query}&$after={page['next']}").get_json()
    assert seen == mine
    by_size = client.get(f"{URL}?length[gte]=13&$orderby=length desc").get_json()
    assert [item["length"] for item in by_size["items"]] == [14, 13]
    assert client.get(f"{URL}?nonsense=1").status_code == 400


def test_item_read_is_the_public_document(client: FlaskClient) -> None:
    """GET /<id> gives the document: no GridFS internals, ms timestamps."""
    doc = _upload(client, URL, b"abc", fields=(("book_id", BOOK_ID), ("caption", "一")))
    read = client.get(f"{URL}/{doc['id']}").get_json()
    assert read == doc
    assert set(read) == {
        "id", "filename", "length", "media_type", "sha256", "uploader", "book_id", "caption",
        "creation_time", "update_time",
    }  # fmt: skip
    assert isinstance(read["creation_time"], int)


def test_soft_delete_hides_the_file_and_keeps_its_chunks(
    client: FlaskClient, mongo_client: Client, mongo_db_name: str
) -> None:
    """The sample resource soft-deletes: 404 afterwards, counted in dummy_remove, bytes kept."""
    doc = _upload(client, URL, text_of(1000))
    assert client.delete(f"{URL}/{doc['id']}").status_code == 204
    assert client.get(f"{URL}/{doc['id']}").status_code == 404
    assert client.get(f"{URL}/{doc['id']}/content").status_code == 404
    assert client.delete(f"{URL}/{doc['id']}").status_code == 404
    listed = client.get(URL).get_json()
    assert (listed["total"], listed["dummy_remove"]) == (0, 1)
    assert mongo_client[mongo_db_name]["attachments.chunks"].count_documents({}) == 1


class HardFiles(FileResource):
    BUCKET = "hard"
    SOFT_DELETE = False


def _app_with(make_kit_app: KitAppFactory, env: dict[str, str], *resources: Any) -> Flask:
    app = make_kit_app(env)
    for resource, prefix in resources:
        blueprint = Blueprint(prefix.strip("/"), __name__, url_prefix=prefix)
        resource.register(blueprint)
        get_api(app).register_blueprint(blueprint)
    return app


def test_hard_delete_removes_document_and_chunks(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], mongo_client: Client,
    mongo_db_name: str,
) -> None:  # fmt: skip
    """SOFT_DELETE = False: DELETE removes the file document and every chunk."""
    client = _app_with(make_kit_app, rainbond_env, (HardFiles, "/hard")).test_client()
    keep = _upload(client, "/hard", text_of(600 * 1024), fields=())
    gone = _upload(client, "/hard", text_of(600 * 1024), fields=())
    assert client.delete(f"/hard/{gone['id']}").status_code == 204
    db = mongo_client[mongo_db_name]
    assert [str(d["_id"]) for d in db["hard.files"].find()] == [keep["id"]]
    assert db["hard.chunks"].count_documents({}) == 3
    assert client.get(f"/hard/{gone['id']}/content").status_code == 404


class IndexedFiles(FileResource):
    BUCKET = "indexed"
    INDEXES = (pymongo.IndexModel([("sha256", pymongo.ASCENDING)], name="by_sha256"),)


def test_declared_indexes_are_built_after_the_first_request(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], mongo_client: Client,
    mongo_db_name: str,
) -> None:  # fmt: skip
    """INDEXES of a file resource land on <BUCKET>.files, as a resource's on its collection."""
    app = _app_with(make_kit_app, rainbond_env, (IndexedFiles, "/indexed"))
    client = app.test_client()
    files = mongo_client[mongo_db_name]["indexed.files"]
    assert "by_sha256" not in files.index_information()  # registration does no store I/O
    assert client.get("/indexed").get_json()["total"] == 0
    assert wait_for_indexes(app, timeout=60)
    assert files.index_information()["by_sha256"]["key"] == [("sha256", 1)]


class GroupSchema(ma.Schema):
    group_list = ma.fields.List(ma.fields.String(), required=True)


class OwnFiles(FileResource):
    BUCKET = "own"
    METADATA_SCHEMA = GroupSchema
    PERMISSION = (CENTER, PERM)
    ROW_LEVEL_FIELD = "uploader"


def _token(center: AuthCenter, codes: list[int], *, all_data: bool) -> tuple[str, str]:
    role = unique_name()
    center.add_role(role, codes, all_data=all_data)
    user = unique_name()
    return center.login(center.add_user([role], ["g1"]), user), user


def test_permissions_and_row_level_rules(
    make_kit_app: KitAppFactory, rainbond_env: dict[str, str], auth_center: AuthCenter
) -> None:
    """Upload needs code 2, list 1, download 16; without is_all_data each user sees only
    their own files (within their groups, ``group_list`` sent as metadata like any resource
    field); the uploader is stamped from the token."""
    app = make_auth_app(make_kit_app, rainbond_env, auth_center.env)
    blueprint = Blueprint("own", __name__, url_prefix="/own")
    OwnFiles.register(blueprint)
    get_api(app).register_blueprint(blueprint)
    client = app.test_client()
    assert client.get("/own").status_code == 401
    alice, alice_name = _token(auth_center, [1, 2, 16], all_data=False)
    bob, _ = _token(auth_center, [1, 2, 16], all_data=False)
    viewer, _ = _token(auth_center, [1], all_data=True)
    boss, _ = _token(auth_center, [1, 16], all_data=True)
    doc = _upload(client, "/own", b"alice's", fields=G1, headers={"token": alice})
    assert doc["uploader"] == alice_name
    _upload(client, "/own", b"bob's", fields=G1, headers={"token": bob})
    body, content_type = multipart(b"x", fields=G1)
    denied = client.post("/own", data=body, content_type=content_type, headers={"token": viewer})
    assert denied.status_code == 403
    assert client.get("/own", headers={"token": alice}).get_json()["total"] == 1
    assert client.get("/own", headers={"token": boss}).get_json()["total"] == 2
    url = f"/own/{doc['id']}/content"
    assert client.get(url, headers={"token": alice}).data == b"alice's"
    assert client.get(url, headers={"token": bob}).status_code == 404
    assert client.get(url, headers={"token": viewer}).status_code == 403  # no download code
    assert client.get(url, headers={"token": boss}).data == b"alice's"
