"""Shared helpers of the backup tests: CLI runners, a recording HTTP server, mongodump's format."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from click.testing import CliRunner, Result

from rainbond_kit.cli import main

#: Every variable the backup reads, unset unless a test sets it.
BACKUP_VARIABLES = (
    "MONGODB_URI", "MONGO_URI", "MONGO_URL", "MONGODB_HOST", "MONGODB_PORT", "MONGODB_DB",
    "MONGODB_DATABASE", "MONGODB_USER", "MONGODB_PASSWORD", "MONGODB_TIMEOUT_MS", "FILE_DIR",
    "URL", "DAY", "DAY_OF_WEEK", "HOUR", "MINUTE", "SECOND", "TZ", "BACKUP_KEEP", "BACKUP_GZIP",
    "BACKUP_UPLOAD_RETRIES", "BACKUP_UPLOAD_BACKOFF", "BACKUP_SNAPSHOT", "BACKUP_LOCK_TTL",
    "REDIS_URL", "REDIS_URI", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_PASS",
)  # fmt: skip


def invoke(args: list[str], env: Mapping[str, str]) -> Result:
    """Run ``rainbond-kit ARGS`` in-process with exactly ``env``'s backup variables."""
    full: dict[str, str | None] = dict.fromkeys(BACKUP_VARIABLES)
    full.update(env)
    return CliRunner().invoke(main, args, env=full, catch_exceptions=False)


def script_env(env: Mapping[str, str]) -> dict[str, str]:
    """The current environment without backup variables, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if k not in BACKUP_VARIABLES}
    return {**base, **env}


def script() -> list[str]:
    """argv of the installed ``rainbond-kit`` console script."""
    return [str(Path(sys.executable).with_name("rainbond-kit"))]


def run_script(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the real ``rainbond-kit`` script in a subprocess."""
    return subprocess.run(
        [*script(), *args], env=script_env(env), capture_output=True, text=True, timeout=60
    )


@dataclass
class Upload:
    """One request the storage server received."""

    content_type: str
    body: bytes

    def parts(self) -> dict[str, EmailMessage]:
        """The multipart parts by field name."""
        message = BytesParser(policy=policy.HTTP).parsebytes(
            f"Content-Type: {self.content_type}\r\n\r\n".encode() + self.body
        )
        assert isinstance(message, EmailMessage)
        return {
            str(part.get_param("name", header="content-disposition")): part
            for part in message.iter_parts()
            if isinstance(part, EmailMessage)
        }


@dataclass
class StorageServer:
    """A local HTTP server standing in for the storage service; answers with ``statuses`` in turn."""

    url: str
    statuses: list[int]
    uploads: list[Upload] = field(default_factory=list)


@contextmanager
def storage_server(statuses: list[int]) -> Iterator[StorageServer]:
    """Serve on 127.0.0.1 in a thread; the last status repeats once the list is used up."""
    state = StorageServer("", list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            state.uploads.append(Upload(self.headers["Content-Type"], self.rfile.read(length)))
            status = state.statuses.pop(0) if len(state.statuses) > 1 else state.statuses[0]
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/upload"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- mongodump's on-disk format, written and read independently of rainbond_kit.backup ---

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
#: Reserved bytes Go's url.PathEscape leaves alone (shouldEscape, encodePathSegment).
_PATH_KEPT = frozenset(b"$&+:=@")


def go_query_escape(name: str) -> str:
    """Go's ``url.QueryEscape`` (mongodump 100.x before PathEscape): space -> ``+``."""
    return "".join(
        chr(b) if b in _UNRESERVED else "+" if b == 0x20 else f"%{b:02X}" for b in name.encode()
    )


def go_path_escape(name: str) -> str:
    """Go's ``url.PathEscape`` (current mongodump): ``+`` kept, space -> ``%20``."""
    return "".join(
        chr(b) if b in _UNRESERVED or b in _PATH_KEPT else f"%{b:02X}" for b in name.encode()
    )


def go_unescape(stem: str, *, query: bool) -> str:
    """Go's ``url.QueryUnescape`` (``query=True``) or ``url.PathUnescape``; ValueError if invalid."""
    out = bytearray()
    raw = stem.encode()
    i = 0
    while i < len(raw):
        b = raw[i]
        if b == ord("%"):
            pair = raw[i + 1 : i + 3]
            if len(pair) != 2 or not all(chr(c) in "0123456789abcdefABCDEF" for c in pair):
                raise ValueError(stem)
            out.append(int(pair, 16))
            i += 3
            continue
        out.append(0x20 if query and b == ord("+") else b)
        i += 1
    return out.decode()


def mongodump_stem(name: str, escape: Callable[[str], str]) -> str:
    """``outputPath``'s file stem: escaped, or truncated to 208 + ``%24`` + sha1 past 238 bytes."""
    escaped = escape(name)
    if len(escaped) <= 238:
        return escaped
    digest = base64.urlsafe_b64encode(hashlib.sha1(name.encode()).digest()).rstrip(b"=")
    return escaped[:208] + "%24" + digest.decode()


@dataclass(frozen=True)
class FixtureCollection:
    """One collection of a hand-made mongodump directory: its metadata text and documents."""

    name: str
    metadata: str  # compact canonical Extended JSON, exactly as mongodump writes it
    documents: tuple[bytes, ...] | None = ()  # None: no .bson file (a view)


def write_mongodump_dir(
    folder: Path,
    collections: list[FixtureCollection],
    *,
    gzip_files: bool,
    escape: Callable[[str], str],
) -> None:
    """Write ``folder`` the way ``mongodump --db <db> [--gzip]`` does (``prepare.go`` ``nameGz``)."""
    folder.mkdir(parents=True)
    gz = ".gz" if gzip_files else ""
    for coll in collections:
        stem = mongodump_stem(coll.name, escape)
        files = {f"{stem}.metadata.json{gz}": coll.metadata.encode()}
        if coll.documents is not None:
            files[f"{stem}.bson{gz}"] = b"".join(coll.documents)
        for file_name, data in files.items():
            (folder / file_name).write_bytes(gzip.compress(data) if gzip_files else data)


def mongorestore_names(folder: Path, *, gzip_files: bool, query: bool) -> dict[str, set[str]]:
    """Collection name -> the kinds of file mongorestore finds for it (``getInfoFromFile``).

    Unrecognised files land under ``"?"`` ("don't know what to do with file").
    """
    found: dict[str, set[str]] = {}
    for path in sorted(folder.iterdir()):
        name = path.name
        suffixes = (
            {".metadata.json.gz": "metadata", ".bson.gz": "bson"}
            if gzip_files
            else {".metadata.json": "metadata", ".bson": "bson"}
        )
        kind = next((k for s, k in suffixes.items() if name.endswith(s)), None)
        if kind is None:
            found.setdefault("?", set()).add(name)
            continue
        stem = name[: -len(next(s for s in suffixes if name.endswith(s)))]
        if "%24" in stem and len(stem) == 238:
            meta_path = folder / (stem + (".metadata.json.gz" if gzip_files else ".metadata.json"))
            raw = meta_path.read_bytes()
            text = (gzip.decompress(raw) if gzip_files else raw).decode()
            collection = str(json.loads(text)["collectionName"])
        else:
            collection = go_unescape(stem, query=query)
        found.setdefault(collection, set()).add(kind)
    return found
