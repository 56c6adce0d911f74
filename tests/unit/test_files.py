"""File responses stream, answer Range/304, and never leave their base directory."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from rainbond_kit.files import (
    content_disposition,
    resolve_inside,
    send_download,
    stream_directory_zip,
    stream_file,
)

VIDEO = bytes(range(256)) * 400  # 102400 bytes, every offset identifiable


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``base/`` with a video, a Chinese-named text file, a subdirectory and a secret beside it."""
    base = tmp_path / "base"
    (base / "sub").mkdir(parents=True)
    (base / "clip.mp4").write_bytes(VIDEO)
    (base / "新建文本文档.txt").write_text("你好", encoding="utf-8")
    (base / "sub" / "a.txt").write_text("A")
    (base / "empty").mkdir()
    (tmp_path / "secret").write_text("TOP SECRET")
    (base / "leak").symlink_to(tmp_path / "secret")
    (base / "inside-link").symlink_to(base / "sub" / "a.txt")
    return base


@pytest.fixture
def client(bare_app: Flask, tree: Path) -> FlaskClient:
    @bare_app.get("/dl/<path:name>")
    def download(name: str) -> object:
        return send_download(tree, name)

    @bare_app.get("/stream/<path:name>")
    def stream(name: str) -> object:
        return stream_file(tree, name)

    @bare_app.get("/zip")
    def zipped() -> object:
        return stream_directory_zip(tree, "项目.zip")

    @bare_app.get("/zip-stored")
    def zipped_stored() -> object:
        return stream_directory_zip(tree, "p.zip", compress=False)

    return bare_app.test_client()


def test_download_is_an_attachment_with_utf8_name(client: FlaskClient) -> None:
    """A Chinese file name travels as filename* (UTF-8) with an ASCII fallback."""
    response = client.get("/dl/新建文本文档.txt", buffered=True)
    assert response.status_code == 200
    assert response.get_data() == "你好".encode()
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"download.txt\"; filename*=UTF-8''"
        "%E6%96%B0%E5%BB%BA%E6%96%87%E6%9C%AC%E6%96%87%E6%A1%A3.txt"
    )
    assert response.mimetype == "text/plain"


def test_content_disposition_ascii_fallback_and_no_header_injection() -> None:
    """Accented letters are folded, CR/LF and quotes never reach the header."""
    assert content_disposition("résumé.pdf", attachment=False) == (
        "inline; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    )
    value = content_disposition('a"\r\nSet-Cookie: x.txt')
    assert "\r" not in value
    assert "\n" not in value
    assert value.startswith('attachment; filename="a_Set-Cookie_ x.txt"')


def test_stream_is_not_read_into_memory(bare_app: Flask, tree: Path) -> None:
    """The body is the open file wrapped for the WSGI server, read in blocks, not a bytes blob."""
    with bare_app.test_request_context():
        response = stream_file(tree, "clip.mp4")
    try:
        assert response.direct_passthrough is True
        assert response.is_streamed
        assert not isinstance(response.response, list | bytes)
        assert response.mimetype == "video/mp4"
        assert response.headers["Accept-Ranges"] == "bytes"
        assert response.headers["Content-Disposition"].startswith("inline;")
        chunks = list(response.response)
        assert max(len(chunk) for chunk in chunks) < len(VIDEO)
        assert b"".join(chunks) == VIDEO
    finally:
        response.close()


@pytest.mark.parametrize("route", ["/stream/clip.mp4", "/dl/clip.mp4"])
def test_range_request_gets_206_with_exact_bytes(client: FlaskClient, route: str) -> None:
    """A player seeking to bytes 1000-1999 gets exactly those bytes and Content-Range."""
    response = client.get(route, headers={"Range": "bytes=1000-1999"}, buffered=True)
    assert response.status_code == 206
    assert response.get_data() == VIDEO[1000:2000]
    assert response.headers["Content-Range"] == f"bytes 1000-1999/{len(VIDEO)}"
    assert response.content_length == 1000


def test_unsatisfiable_range_is_416(client: FlaskClient) -> None:
    """A range past the end is refused with 416, not silently served whole."""
    response = client.get("/stream/clip.mp4", headers={"Range": "bytes=999999-"}, buffered=True)
    assert response.status_code == 416


def test_if_modified_since_gets_304(client: FlaskClient) -> None:
    """A client holding the current copy gets 304 and no body."""
    first = client.get("/dl/clip.mp4", buffered=True)
    assert first.status_code == 200
    again = client.get(
        "/dl/clip.mp4", headers={"If-Modified-Since": first.headers["Last-Modified"]}, buffered=True
    )
    assert again.status_code == 304
    assert again.get_data() == b""
    etag = client.get(
        "/dl/clip.mp4", headers={"If-None-Match": first.headers["ETag"]}, buffered=True
    )
    assert etag.status_code == 304


@pytest.mark.parametrize(
    "name",
    [
        "../secret",
        "sub/../../secret",
        "%2e%2e/secret",
        "%2E%2E%2Fsecret",
        "..%2fsecret",
        "leak",
    ],
)
@pytest.mark.parametrize("prefix", ["/dl/", "/stream/"])
def test_escapes_are_refused_without_leaking_paths(
    client: FlaskClient, tree: Path, prefix: str, name: str
) -> None:
    """Traversal (plain, encoded, via symlink) is a 400 envelope naming no server path."""
    response = client.get(prefix + name, buffered=True)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400
    assert body["message"] == "file name not allowed"
    text = response.get_data(as_text=True)
    assert "SECRET" not in text
    assert str(tree.parent) not in text


def test_absolute_name_is_refused(tree: Path) -> None:
    """An absolute name is refused even if the file exists."""
    with pytest.raises(Exception, match="file name not allowed"):
        resolve_inside(tree, str(tree.parent / "secret"))
    with pytest.raises(Exception, match="file name not allowed"):
        resolve_inside(tree, "a\x00b")


def test_symlink_inside_the_base_is_served(client: FlaskClient) -> None:
    """A link whose target stays inside the base directory is fine."""
    response = client.get("/dl/inside-link", buffered=True)
    assert response.status_code == 200
    assert response.get_data() == b"A"


@pytest.mark.parametrize("name", ["missing.txt", "sub", "sub/nope/x"])
def test_missing_file_is_404_without_path(client: FlaskClient, tree: Path, name: str) -> None:
    """A missing file (or a directory) is a 404 envelope naming no path."""
    response = client.get("/dl/" + name, buffered=True)
    assert response.status_code == 404
    assert response.get_json()["message"] == "file not found"
    assert str(tree) not in response.get_data(as_text=True)


def test_directory_zip_is_streamed_and_complete(bare_app: Flask, tree: Path) -> None:
    """The zip is generated while sent; it opens with zipfile; outside links are left out."""
    with bare_app.test_request_context():
        response = stream_directory_zip(tree, "项目.zip")
    assert response.is_streamed
    assert response.direct_passthrough is True
    assert response.content_length is None
    assert response.mimetype == "application/zip"
    assert "filename*=UTF-8''%E9%A1%B9%E7%9B%AE.zip" in response.headers["Content-Disposition"]
    chunks = list(response.response)
    assert len(chunks) > 1
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == [
        "clip.mp4",
        "empty/",
        "inside-link",
        "sub/a.txt",
        "新建文本文档.txt",
    ]
    assert archive.read("clip.mp4") == VIDEO
    assert archive.read("新建文本文档.txt") == "你好".encode()
    assert archive.read("inside-link") == b"A"
    assert archive.getinfo("clip.mp4").compress_type == zipfile.ZIP_DEFLATED


def test_zip_is_served_over_http(client: FlaskClient) -> None:
    """Through the test client the streamed zip arrives whole."""
    response = client.get("/zip", buffered=True)
    assert response.status_code == 200
    assert "sub/a.txt" in zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()


def test_stored_zip_announces_its_length(client: FlaskClient) -> None:
    """Without compression the exact size is known up front (Content-Length)."""
    response = client.get("/zip-stored", buffered=True)
    assert response.content_length == len(response.get_data())
    assert zipfile.ZipFile(io.BytesIO(response.get_data())).read("sub/a.txt") == b"A"


def test_zip_saved_copy_is_written_atomically(bare_app: Flask, tree: Path) -> None:
    """save_to writes the zip (no leftover temp file) and serves it with Range support."""
    with bare_app.test_request_context():
        response = stream_directory_zip(tree, "copy.zip", save_to=tree.parent)
    saved = tree.parent / "copy.zip"
    assert saved.is_file()
    assert sorted(os.listdir(tree.parent)) == ["base", "copy.zip", "secret"]
    assert response.headers["Accept-Ranges"] == "bytes"
    response.close()
    assert "sub/a.txt" in zipfile.ZipFile(saved).namelist()


@pytest.mark.parametrize("zip_name", ["../x.zip", "a/b.zip", "..", ""])
def test_zip_name_must_be_plain(bare_app: Flask, tree: Path, zip_name: str) -> None:
    """A zip name with a path in it is a 400, before anything is written."""
    with bare_app.test_request_context(), pytest.raises(Exception, match="plain file name"):
        stream_directory_zip(tree, zip_name, save_to=tree.parent)


def test_missing_directory_zip_is_404(bare_app: Flask, tree: Path) -> None:
    """Zipping a directory that does not exist is a 404."""
    with bare_app.test_request_context(), pytest.raises(Exception, match="directory not found"):
        stream_directory_zip(tree / "nope", "x.zip")


@pytest.mark.parametrize(
    "name",
    ["a" * 256, "sub/" + "b" * 300, "报" * 86, "x/" * 2100],  # 86 CJK chars = 258 bytes
)
def test_over_long_names_are_400_not_500(client: FlaskClient, name: str) -> None:
    """Names the file system would refuse (ENAMETOOLONG) are a 400 envelope on every helper."""
    for route in ("/dl/", "/stream/"):
        response = client.get(route + name)
        assert response.status_code == 400, route
        assert response.get_json()["message"] == "file name not allowed"


def test_longest_allowed_name_is_a_plain_404(client: FlaskClient) -> None:
    assert client.get("/dl/" + "a" * 255).status_code == 404


@pytest.mark.parametrize("victim", ["app.py", "secret"])
def test_saved_zip_never_overwrites_other_files(bare_app: Flask, tree: Path, victim: str) -> None:
    """A client-chosen zip name cannot replace a non-zip file beside the folder (409, kept)."""
    target = tree.parent / victim
    if not target.exists():
        target.write_text("print('keep me')\n")
    before = target.read_bytes()
    renamed = tree.parent / (victim + ".zip")
    renamed.write_bytes(before)  # same bytes under a .zip name: still not a zip
    with bare_app.test_request_context():
        with pytest.raises(Exception, match=r"must end in \.zip"):
            stream_directory_zip(tree, victim, save_to=tree.parent)
        with pytest.raises(Exception, match="is not a zip") as raised:
            stream_directory_zip(tree, renamed.name, save_to=tree.parent)
    assert getattr(raised.value, "code", None) == 409
    assert target.read_bytes() == before
    assert renamed.read_bytes() == before
    assert not [p for p in os.listdir(tree.parent) if p.endswith(".part")]


def test_saved_zip_replaces_an_earlier_zip(bare_app: Flask, tree: Path) -> None:
    """Saving twice under one name replaces the first zip (the seed's repeat-call case)."""
    with bare_app.test_request_context():
        stream_directory_zip(tree, "copy.zip", save_to=tree.parent).close()
        (tree / "sub" / "new.txt").write_text("N")
        stream_directory_zip(tree, "COPY.zip".lower(), save_to=tree.parent).close()
    assert "sub/new.txt" in zipfile.ZipFile(tree.parent / "copy.zip").namelist()


def test_saved_zip_refuses_a_directory_or_symlink_of_that_name(bare_app: Flask, tree: Path) -> None:
    (tree.parent / "d.zip").mkdir()
    (tree.parent / "l.zip").symlink_to(tree / "clip.mp4")
    with bare_app.test_request_context():
        for name in ("d.zip", "l.zip"):
            with pytest.raises(Exception, match="is not a zip"):
                stream_directory_zip(tree, name, save_to=tree.parent)
    assert (tree / "clip.mp4").read_bytes() == VIDEO
