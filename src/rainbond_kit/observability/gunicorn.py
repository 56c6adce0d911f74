"""gunicorn server hooks for exact metrics across workers (prometheus-client multiprocess mode).

In a gunicorn config file (``-c gunicorn.conf.py``)::

    from rainbond_kit.observability.gunicorn import child_exit, on_starting

``PROMETHEUS_MULTIPROC_DIR`` names a directory for the per-worker metric files; when unset,
:func:`on_starting` creates a private temporary one. This module imports nothing from
prometheus-client at import time: the variable must be set before that library is loaded.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["child_exit", "on_starting", "prepare_multiprocess_dir"]

log = logging.getLogger("rainbond_kit.metrics")

_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir() -> Path:
    """Create (or empty) the metric files' directory; default a new temporary one.

    Files left by an earlier run would add their counts to this one's, so they go.
    """
    configured = os.environ.get(_VARIABLE, "").strip()
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
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
    return directory


def on_starting(server: Any) -> None:
    """gunicorn master, before the workers start: prepare the metric files' directory."""
    prepare_multiprocess_dir()


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn master, a worker has exited: drop its live gauges (its counts stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # untyped upstream
