"""``RainbondKit``: the Flask extension that assembles container, API, errors, CORS, health."""

from __future__ import annotations

import atexit
import logging
import os
import weakref
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import redis.exceptions
from flask import Flask

from rainbond_kit.api import RainbondApi, api_defaults, register_swagger_assets
from rainbond_kit.containers import Container, shutdown
from rainbond_kit.cors import configure_cors
from rainbond_kit.extension_state import EXTENSION_KEY, KitState, get_state
from rainbond_kit.health import blueprint as health_blueprint
from rainbond_kit.logs import configure_logging
from rainbond_kit.observability import init_observability
from rainbond_kit.ratelimit import init_ratelimit
from rainbond_kit.settings import Settings

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
    "RAINBOND_MAX_PAGE_SIZE": 100,
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
        app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese stays readable

        configure_logging(app)
        container = Container(settings=settings)
        container.config.from_dict(
            {k: v for k, v in app.config.items() if k.startswith("RAINBOND_")}
        )
        api = RainbondApi(app)
        register_swagger_assets(app, app.config["OPENAPI_SWAGGER_UI_URL"].rstrip("/"))
        configure_cors(app)
        app.register_blueprint(health_blueprint)

        app.extensions[EXTENSION_KEY] = KitState(
            container=container,
            settings=settings,
            api=api,
            redis_enabled=_redis_enabled(container, settings),
        )
        init_ratelimit(app)
        init_observability(app, container)
        modules = [*self._wire, *app.config["RAINBOND_WIRE"]]
        if modules:
            container.wire(modules=modules)
        _install_process_hooks(container)
        if settings.mongo.embedded or settings.mongo.uri == os.environ.get("RAINBOND_EMBEDDED_URI"):
            log.warning(
                "development MongoDB in use (%s): production needs a real MongoDB "
                "(set MONGODB_URI or MONGODB_HOST)",
                settings.mongo.redacted_uri,
            )

    @staticmethod
    def shutdown(app: Flask) -> None:
        """Close the app's MongoDB and Redis clients (also runs at interpreter exit)."""
        shutdown(get_state(app).container)


def _redis_enabled(container: Container, settings: Settings) -> bool:
    """Configured Redis is always on (an outage is a 503); an unconfigured one only if it answers."""
    if settings.redis.configured:
        return True
    try:
        container.redis_client().ping()
    except redis.exceptions.RedisError:
        log.warning(
            "Redis is not configured and none answers at %s: Redis-backed features "
            "(auth sessions, rate limiting) are disabled",
            settings.redis.redacted_url,
        )
        return False
    return True


def _install_process_hooks(container: Container) -> None:
    ref = weakref.ref(container)

    def close() -> None:
        target = ref()
        if target is not None:
            shutdown(target)

    def drop_inherited_clients() -> None:
        target = ref()
        if target is not None:
            target.reset_singletons()  # the parent's sockets stay the parent's

    atexit.register(close)
    os.register_at_fork(after_in_child=drop_inherited_clients)
