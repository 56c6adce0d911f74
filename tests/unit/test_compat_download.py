"""compat.download: the seed's three helpers, now traversal-safe, streamed and Range-aware."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from rainbond_kit.compat.download import download_directory, download_file, download_flow
from tests.unit.compat_app import seed_app

VIDEO = bytes(range(256)) * 64


@pytest.fixture
def desktop(tmp_path: Path) -> Path:
    """A 'Desktop' with the seed's file names, a project directory, and a secret outside."""
    desktop = tmp_path / "Desktop"
    (desktop / "project" / "src").mkdir(parents=True)
    (desktop / "新建文本文档.txt").write_text("内容", encoding="utf-8")
    (desktop / "微视频.mp4").write_bytes(VIDEO)
    (desktop / "project" / "src" / "app.py").write_text("print('hi')\n")
    (tmp_path / "secret").write_text("TOP SECRET")
    (desktop / "link").symlink_to(tmp_path / "secret")
    return desktop


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, desktop: Path) -> Iterator[FlaskClient]:
    for app in seed_app(monkeypatch):

        @app.get("/file/<path:name>")
        def file(name: str) -> object:
            return download_file(file_path=str(desktop), file_name=name)

        @app.get("/flow/<path:name>")
        def flow(name: str) -> object:
            return download_flow(file_path=str(desktop), file_name=name)

        @app.get("/dir")
        def directory() -> object:
            return download_directory(
                dir_path=str(desktop / "project"), zip_name="project.zip", save_zip=False
            )

        @app.get("/dir-saved")
        def directory_saved() -> object:
            return download_directory(str(desktop / "project"), "project.zip", save_zip=True)

        yield app.test_client()


def test_download_file_seed_example(client: FlaskClient) -> None:
    """download_file sends 新建文本文档.txt as an attachment with a UTF-8 file name."""
    response = client.get("/file/新建文本文档.txt", buffered=True)
    assert response.status_code == 200
    assert response.get_data() == "内容".encode()
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert (
        "filename*=UTF-8''%E6%96%B0%E5%BB%BA%E6%96%87%E6%9C%AC%E6%96%87%E6%A1%A3.txt" in disposition
    )


def test_download_flow_seed_example_with_range(client: FlaskClient) -> None:
    """download_flow streams 微视频.mp4; a seek (Range) gets 206 and the right bytes."""
    whole = client.get("/flow/微视频.mp4", buffered=True)
    assert whole.status_code == 200
    assert whole.get_data() == VIDEO
    assert whole.mimetype == "video/mp4"
    part = client.get("/flow/微视频.mp4", headers={"Range": "bytes=100-"}, buffered=True)
    assert part.status_code == 206
    assert part.get_data() == VIDEO[100:]
    assert part.headers["Content-Range"] == f"bytes 100-{len(VIDEO) - 1}/{len(VIDEO)}"


@pytest.mark.parametrize("route", ["/flow/", "/file/"])
@pytest.mark.parametrize("name", ["../secret", "%2e%2e/secret", "..%2Fsecret", "link"])
def test_traversal_is_refused(client: FlaskClient, desktop: Path, route: str, name: str) -> None:
    """The original download_flow served ../secret; now 400 with no path in the body."""
    response = client.get(route + name, buffered=True)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "SECRET" not in text
    assert str(desktop.parent) not in text


def test_absolute_file_name_is_refused(monkeypatch: pytest.MonkeyPatch, desktop: Path) -> None:
    """An absolute file_name (as a careless caller might pass) is refused too."""
    for app in seed_app(monkeypatch):
        with app.test_request_context(), pytest.raises(Exception, match="file name not allowed"):
            download_flow(str(desktop), str(desktop.parent / "secret"))


def test_missing_file_is_404_without_path(client: FlaskClient, desktop: Path) -> None:
    """The original's 400 named the full server path; now a 404 that names nothing."""
    response = client.get("/file/nope.txt", buffered=True)
    assert response.status_code == 404
    assert str(desktop) not in response.get_data(as_text=True)


def test_download_directory_is_streamed(client: FlaskClient, desktop: Path) -> None:
    """The zip is streamed (not built in memory) and contains the tree; nothing is saved."""
    response = client.get("/dir", buffered=True)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.content_length is None
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert archive.namelist() == ["src/app.py"]
    assert archive.read("src/app.py") == b"print('hi')\n"
    assert not (desktop / "project.zip").exists()


def test_download_directory_save_zip_writes_beside_the_directory(
    client: FlaskClient, desktop: Path
) -> None:
    """save_zip=True keeps project.zip next to the directory and sends the same bytes."""
    response = client.get("/dir-saved", buffered=True)
    assert response.status_code == 200
    saved = desktop / "project.zip"
    assert saved.read_bytes() == response.get_data()
    assert not list(desktop.glob(".*.part"))
