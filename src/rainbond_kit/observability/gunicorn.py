"""gunicorn server hooks for exact metrics across workers (prometheus-client multiprocess mode).

In a gunicorn config file (``-c gunicorn.conf.py``)::

    from rainbond_kit.observability.gunicorn import child_exit, on_starting, prepare_multiprocess_dir

    prepare_multiprocess_dir()  # now: before preload_app builds the app in the master

``PROMETHEUS_MULTIPROC_DIR`` names a directory for the per-worker metric files; when unset, a
private temporary one is created. This module imports nothing from prometheus-client at import
time: the variable must be set before that library is loaded, which with ``preload_app`` is
before the ``on_starting`` hook runs; so the config file calls :func:`prepare_multiprocess_dir`
itself, and ``on_starting`` then leaves the directory alone (emptying it again would drop the
values the master wrote while preloading, such as ``rainbond_kit_info``).
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from rainbond_kit.errors import ConfigurationError

__all__ = ["child_exit", "on_starting", "prepare_multiprocess_dir"]

log = logging.getLogger("rainbond_kit.metrics")

_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: (pid, directory) of the last preparation, so a second call in the same master is a no-op
_prepared: tuple[int, str] | None = None


def prepare_multiprocess_dir() -> Path:
    """Create (or empty) the metric files' directory; default a new temporary one.

    Files left by an earlier run would add their counts to this one's, so they go. Once per
    process: called again (``on_starting`` after the config file, a config reload on
    ``SIGHUP``) while the variable still names the prepared directory, it changes nothing.

    :raises ConfigurationError: the variable names something that cannot be a directory
        this process writes (a file, a read-only place, ...).
    """
    global _prepared
    current = os.environ.get(_VARIABLE, "").strip()
    if _prepared is not None and _prepared == (os.getpid(), current):
        return Path(current)
    if current:
        directory = Path(current)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for stale in directory.glob("*.db"):
                stale.unlink()
            if not os.access(directory, os.W_OK | os.X_OK):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        except OSError as exc:
            raise ConfigurationError(
                f"{_VARIABLE} must name a directory this process can write, got {current!r}"
                f" ({exc.strerror or exc})"
            ) from None
    else:
        directory = Path(tempfile.mkdtemp(prefix="rainbond-metrics-"))
        os.environ[_VARIABLE] = str(directory)
    values = sys.modules.get("prometheus_client.values")
    if values is not None and values.ValueClass is values.MutexValue:
        log.error(
            "prometheus-client was loaded before %s was set (gunicorn --preload?): "
            "set it in the environment so the workers' counts add up",
            _VARIABLE,
        )
    _prepared = (os.getpid(), str(directory))
    return directory


def on_starting(server: Any) -> None:
    """gunicorn master, before the workers start: prepare the metric files' directory.

    A no-op when the config file has already called :func:`prepare_multiprocess_dir`.
    """
    prepare_multiprocess_dir()


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn master, a worker has exited: drop its live gauges (its counts stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # untyped upstream
