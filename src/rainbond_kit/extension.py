"""``RainbondKit``: the Flask extension that assembles container, API, errors, CORS, health."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from rainbond_kit.api import RainbondApi, api_defaults, register_swagger_assets
from rainbond_kit.containers import Container, shutdown, track
from rainbond_kit.cors import configure_cors
from rainbond_kit.embedded import is_development_server
from rainbond_kit.extension_state import EXTENSION_KEY, KitState, get_state, run_init_hooks
from rainbond_kit.health import blueprint as health_blueprint
from rainbond_kit.i18n import init_i18n
from rainbond_kit.idempotency import init_idempotency
from rainbond_kit.logs import configure_logging
from rainbond_kit.observability import init_observability
from rainbond_kit.ratelimit import init_ratelimit, trusted_proxies
from rainbond_kit.settings import Settings
from rainbond_kit.zones import init_timezone

__all__ = ["CONFIG_DEFAULTS", "RainbondKit"]

log = logging.getLogger("rainbond_kit")

#: Flask config keys rainbond-kit reads, with their defaults (``app.config`` wins).
CONFIG_DEFAULTS: dict[str, Any] = {
    "RAINBOND_CORS": True,
    "RAINBOND_CORS_ORIGINS": "*",
    "RAINBOND_CORS_CREDENTIALS": False,
    "RAINBOND_JSON_LOGS": True,
    "RAINBOND_READY_TIMEOUT": 2.0,
    "RAINBOND_ERROR_MESSAGES": {},
    "RAINBOND_WIRE": [],
}

DEFAULT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024


class RainbondKit:
    """Flask extension: ``RainbondKit(app)`` or ``kit = RainbondKit(); kit.init_app(app)``.

    :param settings: connection settings; default: read from the environment at ``init_app``.
    :param wire: modules (or dotted names) whose ``@inject`` functions get this app's
        container; views use ``Provide[Container.mongo_db]`` there.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        settings: Settings | None = None,
        wire: Iterable[str | ModuleType] = (),
        title: str | None = None,
        version: str = "1.0.0",
    ) -> None:
        self._settings = settings
        self._wire = list(wire)
        self._title = title
        self._version = version
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, *, settings: Settings | None = None) -> None:
        """Build the container and API for ``app`` and install errors, CORS and probes.

        :raises ConfigurationError: an environment variable or config key is malformed.
        """
        settings = settings or self._settings or Settings.from_env()
        for key, value in {
            **CONFIG_DEFAULTS,
            **api_defaults(self._title or app.name, self._version),
        }.items():
            app.config.setdefault(key, value)
        if app.config.get("MAX_CONTENT_LENGTH") is None:
            app.config["MAX_CONTENT_LENGTH"] = DEFAULT_MAX_CONTENT_LENGTH

        init_i18n(app)
        init_timezone(app)
        configure_logging(app)
        container = Container(settings=settings)
        api = RainbondApi(app)
        register_swagger_assets(app, app.config["OPENAPI_SWAGGER_UI_URL"].rstrip("/"))
        configure_cors(app)
        app.register_blueprint(health_blueprint)

        app.extensions[EXTENSION_KEY] = KitState(
            container=container,
            settings=settings,
            api=api,
            redis_enabled=settings.redis.configured,
        )
        init_ratelimit(app)
        init_idempotency(app)
        init_observability(app, container)
        _trust_proxies(app)
        _warn_without_redis(settings)
        modules = [*self._wire, *app.config["RAINBOND_WIRE"]]
        if modules:
            container.wire(modules=modules)
        track(container)
        if settings.mongo.embedded or is_development_server(settings.mongo.uri):
            log.warning(
                "development MongoDB in use (%s): production needs a real MongoDB "
                "(set MONGODB_URI or MONGODB_HOST)",
                settings.mongo.redacted_uri,
            )
        run_init_hooks(app)

    @staticmethod
    def shutdown(app: Flask) -> None:
        """Close the app's MongoDB and Redis clients (also runs at interpreter exit)."""
        state = get_state(app)
        shutdown(state.container)
        for feature in state.features.values():  # e.g. the auth providers, over the same clients
            feature.reset_singletons()


def _warn_without_redis(settings: Settings) -> None:
    """Configured Redis is on (an outage is a 503); without any Redis variable it is off.

    Decided from the settings alone: the app factory does no network I/O. Logged only after
    every key is validated, so a configuration error stays the only line printed.
    """
    if not settings.redis.configured:
        log.warning(
            "Redis is not configured (REDIS_URL or REDIS_HOST): Redis-backed features "
            "(auth sessions, rate limiting) are disabled"
        )


def _trust_proxies(app: Flask) -> None:
    """Honour ``X-Forwarded-*`` from ``RAINBOND_TRUSTED_PROXIES`` proxies (werkzeug's ProxyFix).

    The same count the rate limits use: behind Rainbond's gateway set it to 1, so URLs
    (``Link`` headers) say ``https://`` and the client address is the caller's.
    """
    hops = trusted_proxies(app)
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
