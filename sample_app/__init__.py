"""The sample books service: rainbond-kit's tutorial, runnable with ``python -m sample_app``.

Auth is off unless the auth-center variables are set (``SECRET_KEY``, ``REDIS_DB_PERMISSION``,
``MONGODB_DB_NAME``, ``MONGODB_PERMISSION``, ...; see ``docs/auth.md``): then every books and
demo operation needs a token and the method's permission code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from rainbond_kit import RainbondKit, Settings, get_api
from rainbond_kit.auth import AuthSettings, document_token_security, init_auth

__all__ = ["create_app"]

AUTH_VARIABLES = ("SECRET_KEY", "REDIS_DB_PERMISSION", "MONGODB_PERMISSION")


def create_app(
    settings: Settings | None = None,
    config: Mapping[str, Any] | None = None,
    *,
    auth: AuthSettings | None = None,
) -> Flask:
    """Application factory; ``settings`` and ``auth`` default to the environment."""
    from sample_app import books, demo, files

    if auth is None and all(os.environ.get(name, "").strip() for name in AUTH_VARIABLES):
        auth = AuthSettings.from_env()
    app = Flask(__name__)
    app.config.update(config or {})
    RainbondKit(app, settings=settings, title="Books service", version="1.0.0")
    api = get_api(app)
    secured = auth is not None
    if auth is not None:
        init_auth(app, auth, per_defaults=books.PER_DEFAULTS)
        document_token_security(api)
    api.register_blueprint(books.make_blueprint(secured=secured))
    api.register_blueprint(demo.make_blueprint(secured=secured))
    api.register_blueprint(files.make_blueprint(secured=secured))
    return app
