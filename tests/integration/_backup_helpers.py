"""Shared helpers of the backup integration tests: a recording HTTP server, CLI runners."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
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
    "BACKUP_UPLOAD_RETRIES", "BACKUP_UPLOAD_BACKOFF",
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
