"""Dump files without a server: metadata format, multipart body, progress."""

from __future__ import annotations

import io
import uuid
from email import policy
from email.parser import BytesParser
from pathlib import Path

from bson.binary import Binary
from bson.son import SON

from rainbond_kit.backup.dump import collection_metadata, metadata_json
from rainbond_kit.backup.progress import Progress, Totals
from rainbond_kit.backup.upload import multipart_body

UID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def test_metadata_matches_mongodump_format() -> None:
    """metadata.json is mongodump's: options, indexes as listed, uuid as hex, collectionName.

    Compact canonical Extended JSON in that key order, UTF-8 unescaped (Go's
    ``bson.MarshalExtJSON(meta, true, false)`` in ``metadata_dump.go``).
    """
    info = {
        "name": "订单",
        "type": "collection",
        "options": SON([("capped", True), ("size", 4096)]),
        "info": {"uuid": Binary(UID.bytes, 4)},
    }
    index = SON([("v", 2), ("key", SON([("a", 1)])), ("name", "a_1")])
    assert (
        metadata_json(collection_metadata(info, [index]))
        == (
            '{"options":{"capped":true,"size":{"$numberInt":"4096"}},'
            '"indexes":[{"v":{"$numberInt":"2"},"key":{"a":{"$numberInt":"1"}},"name":"a_1"}],'
            f'"uuid":"{UID.hex}","collectionName":"订单"}}'
        ).encode()
    )
    assert collection_metadata({"name": "v", "info": {"uuid": UID}}, [])["uuid"] == UID.hex
    assert collection_metadata({"name": "v", "options": {}}, []) == {
        "indexes": [],
        "collectionName": "v",
    }


def test_multipart_body_is_parseable_and_exact(tmp_path: Path) -> None:
    """The streamed body has the announced length and parses into file_dir and file parts."""
    archive = tmp_path / "shop-1.tar.gz"
    archive.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 300)
    chunks, length = multipart_body(archive, {"file_dir": "备份/shop"}, "BOUND")
    body = b"".join(chunks())
    assert len(body) == length
    assert b"".join(chunks()) == body  # a fresh iterator per attempt
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: multipart/form-data; boundary=BOUND\r\n\r\n" + body
    )
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    assert parts["file_dir"].get_payload(decode=True).decode() == "备份/shop"
    assert parts["file"].get_filename() == "shop-1.tar.gz"
    assert parts["file"].get_payload(decode=True) == archive.read_bytes()


def test_progress_plain_lines_when_not_a_terminal() -> None:
    """Off a terminal each collection is one timestamped line; the summary counts everything."""
    stream = io.StringIO()
    progress = Progress(stream=stream, interactive=False)
    progress.start("items", 3)
    progress.advance("items", 2)
    progress.finish("items", 3, 120)
    [line] = stream.getvalue().splitlines()
    assert line.endswith("Z items: 3 documents, 120 bytes")
    totals = Totals()
    totals.add(3, 120)
    totals.add(0, 0)
    totals.seconds = 0.5
    assert totals.describe() == "2 collections, 3 documents, 120 bytes in 0.50 s"


def test_progress_live_line_on_a_terminal() -> None:
    """On a terminal the count is redrawn in place with the expected total, then finished."""
    stream = io.StringIO()
    ticks = iter([0.0, 1.0])
    progress = Progress(stream=stream, interactive=True, clock=lambda: next(ticks))
    progress.start("items", 10)
    progress.advance("items", 4)
    progress.finish("items", 10, 400)
    assert stream.getvalue() == (
        "\r\x1b[K  items: 0 / 10 documents"
        "\r\x1b[K  items: 4 / 10 documents"
        "\r\x1b[K  items: 10 documents, 400 bytes\n"
    )
