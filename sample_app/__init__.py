"""The sample books service: rainbond-kit's tutorial, runnable with ``python -m sample_app``.

Next to the books: the order service of ``sample_app/orders.py`` (actions, transitions).

Auth fails closed: with the auth-center variables set (``SECRET_KEY``, ``REDIS_DB_PERMISSION``,
``MONGODB_DB_NAME``, ``MONGODB_PERMISSION``, ...; see ``docs/auth.md``) every books and demo
operation needs a token and the method's permission code; an incomplete or misspelt set stops
start-up. Auth off is ``RAINBOND_AUTH=off`` (required under gunicorn), logged either way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from rainbond_kit import RainbondKit, Settings, get_api
from rainbond_kit.auth import AuthSettings, document_token_security, init_auth
from rainbond_kit.auth.settings import auth_from_env

__all__ = ["create_app"]


def create_app(
    settings: Settings | None = None,
    config: Mapping[str, Any] | None = None,
    *,
    auth: AuthSettings | None = None,
    explicit_auth_off: bool = False,
) -> Flask:
    """Application factory; ``settings`` and ``auth`` default to the environment.

    :param explicit_auth_off: with no auth variables set, demand ``RAINBOND_AUTH=off``.
    :raises ConfigurationError: a variable is malformed or the auth set is incomplete.
    """
    from sample_app import books, demo, files, orders

    if auth is None:
        auth = auth_from_env(explicit_off=explicit_auth_off)
    app = Flask(__name__)
    app.config.update(config or {})
    RainbondKit(app, settings=settings, title="Books service", version="1.0.0")
    if auth is None:
        explicit = os.environ.get("RAINBOND_AUTH", "").strip().lower() == "off"
        app.logger.log(
            logging.INFO if explicit else logging.WARNING,
            "auth is off%s: every endpoint is open",
            " (RAINBOND_AUTH=off)" if explicit else " (no auth-center variable is set)",
        )
    api = get_api(app)
    secured = auth is not None
    if auth is not None:
        init_auth(app, auth, per_defaults=[*books.PER_DEFAULTS, *orders.PER_DEFAULTS])
        document_token_security(api)
    api.register_blueprint(books.make_blueprint(secured=secured))
    api.register_blueprint(demo.make_blueprint(secured=secured))
    api.register_blueprint(files.make_blueprint(secured=secured))
    api.register_blueprint(orders.make_blueprint(secured=secured))
    return app
