"""WSGI entry for production servers: ``gunicorn sample_app.wsgi:app``.

Settings come from the environment (``MONGODB_URI``, ``REDIS_URL``, ...); no embedded MongoDB.
"""

from __future__ import annotations

from sample_app import create_app

app = create_app()
