"""Upload and download a large file through a FileResource: throughput and server memory.

Run: ``python bench/gridfs_stream.py [MiB]`` (default 200). A server process (Werkzeug's
threaded server, one app with a FileResource) talks to MongoDB (``MONGODB_URI``, else a
SecantusDB child process). The client streams a generated multipart body over a raw HTTP
connection (never holding the file), then downloads it in 1 MiB reads and checks its SHA-256.
Reported: MiB/s each way and the server's peak RSS growth (``VmHWM`` after the transfer
minus ``VmRSS`` after a warm-up upload and download), the figure the 64 MiB target is about.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymongo

MIB = 1024 * 1024
PIECE = b"".join(f"{i:015d}\n".encode() for i in range(MIB // 16))  # 1 MiB of text


def serve(uri: str, database: str, port: int) -> None:
    """The server process: one FileResource over ``uri``, served until killed."""
    from flask_smorest import Blueprint
    from werkzeug.serving import make_server

    from rainbond_kit import FileResource, RainbondKit, get_api
    from rainbond_kit.settings import Settings

    class Big(FileResource):
        BUCKET = "bench"
        MAX_SIZE = 1024 * MIB

    from flask import Flask

    app = Flask("gridfs_bench")
    RainbondKit(app, settings=Settings.from_env({"MONGODB_URI": uri, "MONGODB_DB": database}))
    blueprint = Blueprint("bench", __name__, url_prefix="/files")
    Big.register(blueprint)
    get_api(app).register_blueprint(blueprint)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def _status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])  # KiB
    return fields


def _body(size: int, boundary: str) -> tuple[int, Iterator[bytes]]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def pieces() -> Iterator[bytes]:
        yield head
        left = size
        while left:
            piece = PIECE[: min(left, len(PIECE))]
            left -= len(piece)
            yield piece
        yield tail

    return len(head) + size + len(tail), pieces()


def _upload(port: int, size: int) -> tuple[dict[str, object], float]:
    boundary = uuid.uuid4().hex
    length, pieces = _body(size, boundary)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.putrequest("POST", "/files")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    for piece in pieces:
        conn.send(piece)
    response = conn.getresponse()
    body = json.loads(response.read())
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status != 201:
        raise SystemExit(f"upload failed: {response.status} {body}")
    return body, elapsed


def _download(port: int, file_id: str) -> tuple[str, int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", f"/files/{file_id}/content")
    response = conn.getresponse()
    digest, total = hashlib.sha256(), 0
    while piece := response.read(MIB):
        digest.update(piece)
        total += len(piece)
    elapsed = time.perf_counter() - started
    conn.close()
    return digest.hexdigest(), total, elapsed


def _expected_sha256(size: int) -> str:
    digest = hashlib.sha256()
    left = size
    while left:
        piece = PIECE[: min(left, len(PIECE))]
        left -= len(piece)
        digest.update(piece)
    return digest.hexdigest()


def _wait(port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run(uri: str, mib: int) -> dict[str, object]:
    """Upload and download ``mib`` MiB through a server process over ``uri``; the figures."""
    from rainbond_kit.embedded import free_port

    size = mib * MIB
    port = free_port()
    database = f"gridfs_bench_{uuid.uuid4().hex[:8]}"
    server = subprocess.Popen([sys.executable, __file__, "--serve", uri, database, str(port)])
    try:
        _wait(port)
        warm, _ = _upload(port, 4 * MIB)
        _download(port, str(warm["id"]))
        before = _status(server.pid)
        doc, up_seconds = _upload(port, size)
        after_upload = _status(server.pid)
        digest, received, down_seconds = _download(port, str(doc["id"]))
        after = _status(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        with pymongo.MongoClient(uri) as client:
            client.drop_database(database)
    if received != size or not digest == doc["sha256"] == _expected_sha256(size):
        raise SystemExit("the content changed in transit")
    return {
        "size_mib": mib,
        "upload_mib_s": round(mib / up_seconds, 1),
        "download_mib_s": round(mib / down_seconds, 1),
        "server_rss_before_mib": round(before["VmRSS"] / 1024, 1),
        "peak_rss_growth_upload_mib": round((after_upload["VmHWM"] - before["VmRSS"]) / 1024, 1),
        "peak_rss_growth_total_mib": round((after["VmHWM"] - before["VmRSS"]) / 1024, 1),
    }


def main(mib: int) -> None:
    from rainbond_kit.embedded import running_mongo

    with running_mongo() as uri:
        result = run(uri, mib)
    result["mongodb"] = "MONGODB_URI" if os.environ.get("MONGODB_URI") else "SecantusDB (embedded)"
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
