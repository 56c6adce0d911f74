"""gunicorn settings for the sample app: ``gunicorn -c sample_app/gunicorn_conf.py sample_app.wsgi:app``.

``/metrics`` stays exact across workers (prometheus-client multiprocess mode): the metrics
directory is emptied (or created) when gunicorn reads this file, before ``--preload`` could
build the app, and the master marks exited workers (``child_exit``).
"""

from __future__ import annotations

from rainbond_kit.observability.gunicorn import child_exit, on_starting, prepare_multiprocess_dir

__all__ = ["child_exit", "on_starting"]

prepare_multiprocess_dir()
