"""gunicorn settings for the sample app: ``gunicorn -c sample_app/gunicorn_conf.py sample_app.wsgi:app``.

The two server hooks keep ``/metrics`` exact across workers (prometheus-client multiprocess
mode): the master empties ``PROMETHEUS_MULTIPROC_DIR`` at start-up and marks exited workers.
"""

from __future__ import annotations

from rainbond_kit.observability.gunicorn import child_exit, on_starting

__all__ = ["child_exit", "on_starting"]
