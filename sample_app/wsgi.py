"""WSGI entry for production servers: ``gunicorn --preload sample_app.wsgi:app``.

Settings come from the environment (``MONGODB_URI``, ``REDIS_URL``, ...); a MongoDB must be
configured (no embedded one), and auth off must be explicit (``RAINBOND_AUTH=off``). A configuration error is one line on stderr and exit code 2
(``--preload`` builds the app once in gunicorn's master, so gunicorn stops once).
"""

from __future__ import annotations

from rainbond_kit.entrypoints import wsgi_app
from sample_app import create_app

app = wsgi_app(lambda settings: create_app(settings, explicit_auth_off=True))
