"""File uploads that must be refused cleanly: caps, types, truncation, malformed bodies.

Each refusal leaves nothing in GridFS (no file document, no chunk), and each group keeps the
one valid input beside the rejections.
"""

from __future__ import annotations

import io
from typing import Any

import pymongo
import pytest
from flask.testing import FlaskClient
from flask_smorest import Blueprint

from rainbond_kit import FileResource, Settings, get_api
from tests.integration._filestore_support import BOOK_ID, URL, multipart, text_of

Client = pymongo.MongoClient[dict[str, Any]]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(64)


class SmallFiles(FileResource):
    """A 1 MiB cap, so the cap tests stream little."""

    BUCKET = "small"
    MAX_SIZE = 1024 * 1024


CAP = SmallFiles.MAX_SIZE
SMALL = "/small"


@pytest.fixture
def small_client(make_kit_app: Any, rainbond_settings: Settings) -> FlaskClient:
    app = make_kit_app(rainbond_settings)
    blueprint = Blueprint("small", __name__, url_prefix=SMALL)
    SmallFiles.register(blueprint)
    get_api(app).register_blueprint(blueprint)
    return app.test_client()  # type: ignore[no-any-return]


@pytest.fixture
def small_stored(mongo_client: Client, mongo_db_name: str) -> Any:
    """Callable: how many (file documents, chunks) the small bucket holds."""
    db = mongo_client[mongo_db_name]
    return lambda: (
        db["small.files"].count_documents({}),
        db["small.chunks"].count_documents({}),
    )


@pytest.fixture
def stored(mongo_client: Client, mongo_db_name: str) -> Any:
    """Callable: how many (file documents, chunks) the attachments bucket holds."""
    db = mongo_client[mongo_db_name]

    def count() -> tuple[int, int]:
        return (
            db["attachments.files"].count_documents({}),
            db["attachments.chunks"].count_documents({}),
        )

    return count


class CountingStream(io.RawIOBase):
    """A body of ``size`` bytes (a multipart head, then filler) that records how much was read."""

    def __init__(self, head: bytes, size: int) -> None:
        self.head, self.size, self.consumed = head, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.consumed)
        view = memoryview(buffer)
        head = self.head[self.consumed : self.consumed + n]
        view[: len(head)] = head
        view[len(head) : n] = b"a" * (n - len(head))
        self.consumed += n
        return n


def _file_head(boundary: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()


def test_oversized_upload_is_413_before_reading_the_body(
    small_client: FlaskClient, small_stored: Any
) -> None:
    """A Content-Length over the cap is refused from the header alone: no byte is read."""
    stream = CountingStream(_file_head("b"), 4 * CAP)
    response = small_client.post(
        SMALL,
        environ_overrides={
            "wsgi.input": stream, "CONTENT_LENGTH": str(stream.size),
            "CONTENT_TYPE": "multipart/form-data; boundary=b",
        },
    )  # fmt: skip
    assert response.status_code == 413
    assert response.get_json()["code"] == 413
    assert stream.consumed == 0
    assert small_stored() == (0, 0)


def test_oversized_chunked_upload_is_413_after_the_cap_only(
    small_client: FlaskClient, small_stored: Any
) -> None:
    """Without Content-Length the cap is enforced while streaming: reading stops just past it
    and the chunks written so far are deleted."""
    stream = CountingStream(_file_head("b"), 4 * CAP)
    response = small_client.post(
        SMALL,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={
            "wsgi.input": stream, "wsgi.input_terminated": True,
            "CONTENT_TYPE": "multipart/form-data; boundary=b",
        },
    )  # fmt: skip
    assert response.status_code == 413
    assert CAP < stream.consumed <= CAP + 256 * 1024
    assert small_stored() == (0, 0)


@pytest.mark.parametrize(("size", "status"), [(CAP, 201), (CAP + 1, 413)])
def test_exactly_the_cap_is_accepted_one_more_byte_is_not(
    small_client: FlaskClient, small_stored: Any, size: int, status: int
) -> None:
    """A file of exactly MAX_SIZE bytes is stored (control); one byte more is a 413."""
    body, content_type = multipart(text_of(size), fields=())
    response = small_client.post(SMALL, data=body, content_type=content_type)
    assert response.status_code == status, response.get_json()
    if status == 201:
        assert response.get_json()["length"] == CAP
        assert small_stored() == (1, -(-CAP // (255 * 1024)))
    else:
        assert small_stored() == (0, 0)


@pytest.mark.parametrize(
    ("content", "declared"),
    [
        (EXE, "text/plain"),  # the bytes say executable whatever the header says
        (EXE, "image/png"),
        (bytes(range(256)) * 4, "text/plain"),  # binary without a signature
        (b"plain text", "image/png"),  # declared PNG, is text: text/plain is allowed ...
    ],
)
def test_types_are_judged_by_their_bytes(
    client: FlaskClient, stored: Any, content: bytes, declared: str
) -> None:
    """A signature outside the allow-list is a 415 and nothing is stored; a file whose bytes
    are an allowed type is stored under its real type whatever the client declared."""
    body, content_type = multipart(content, content_type=declared, filename="x.png")
    response = client.post(URL, data=body, content_type=content_type)
    if content == b"plain text":
        assert response.status_code == 201
        assert response.get_json()["media_type"] == "text/plain"
        return
    assert response.status_code == 415
    assert response.get_json()["code"] == 415
    assert stored() == (0, 0)


def test_a_real_png_is_stored_as_png(client: FlaskClient) -> None:
    """Control: a PNG signature with any declared type is image/png."""
    body, content_type = multipart(PNG, content_type="application/octet-stream")
    response = client.post(URL, data=body, content_type=content_type)
    assert response.status_code == 201
    assert response.get_json()["media_type"] == "image/png"
    download = client.get(f"{URL}/{response.get_json()['id']}/content")
    assert (download.mimetype, download.data) == ("image/png", PNG)
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("cut", [10, 200, 300 * 1024, -3])
def test_truncated_upload_leaves_nothing(client: FlaskClient, stored: Any, cut: int) -> None:
    """A body that ends early (the client gone before announcing Content-Length bytes) is a
    400 and no chunk or document remains."""
    body, content_type = multipart(text_of(600 * 1024))
    response = client.post(
        URL,
        environ_overrides={
            "wsgi.input": io.BytesIO(body[:cut]), "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": content_type,
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert stored() == (0, 0)


def test_body_without_closing_boundary_leaves_nothing(client: FlaskClient, stored: Any) -> None:
    """A complete-looking body missing its final boundary is refused, nothing kept."""
    body, content_type = multipart(text_of(600 * 1024))
    short = body[: body.rindex(b"--")]
    response = client.post(URL, data=short, content_type=content_type)
    assert response.status_code == 400
    assert stored() == (0, 0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ((), "book_id"),
        ((("book_id", "not-an-id"),), "book_id"),
        ((("book_id", BOOK_ID), ("caption", "x" * 201)), "caption"),
        ((("book_id", BOOK_ID), ("owner", "me")), "owner"),
    ],
)
def test_invalid_metadata_is_422_and_nothing_stored(
    client: FlaskClient, stored: Any, fields: Any, field: str
) -> None:
    """Metadata is validated by the schema after streaming; a refusal deletes the chunks."""
    body, content_type = multipart(text_of(300 * 1024), fields=fields)
    response = client.post(URL, data=body, content_type=content_type)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["form"]
    assert stored() == (0, 0)


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b'{"a": 1}', "application/json", 415),
        (b"x", "multipart/form-data", 400),  # no boundary
        (b"garbage", "multipart/form-data; boundary=zz", 400),
        (multipart(b"x", file_field="other")[0], None, 400),
    ],
)
def test_malformed_requests_are_clear_4xx(
    client: FlaskClient, stored: Any, data: bytes, content_type: str | None, status: int
) -> None:
    """Not multipart, no boundary, garbage, the wrong part name: a 4xx envelope, nothing kept."""
    if content_type is None:
        data, content_type = multipart(b"x", file_field="other")
    response = client.post(URL, data=data, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["code"] == status
    assert stored() == (0, 0)


def test_two_file_parts_are_refused(client: FlaskClient, stored: Any) -> None:
    """Exactly one file per upload: a second file part is a 400 and the first is removed."""
    one, content_type = multipart(text_of(300 * 1024))
    boundary = content_type.split("boundary=")[1]
    second = one.replace(f"--{boundary}--".encode(), b"")
    body = (
        second
        + one[: one.index(b"\r\n--" + boundary.encode()) + 2]
        + f"--{boundary}--\r\n".encode()
    )
    response = client.post(URL, data=body, content_type=content_type)
    assert response.status_code == 400
    assert stored() == (0, 0)


@pytest.mark.parametrize(
    ("item_id", "status"), [("nope", 400), ("..%2F..%2Fetc%2Fpasswd", 404), ("0" * 24, 404)]
)
def test_bad_or_unknown_ids_are_400_or_404(client: FlaskClient, item_id: str, status: int) -> None:
    """Files are named by ids, never paths: a malformed id is a 400, a path or an unknown id
    a 404 envelope."""
    response = client.get(f"{URL}/{item_id}/content")
    assert response.status_code == status
    assert response.get_json()["code"] == status
