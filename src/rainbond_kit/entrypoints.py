"""How every entry point reports a configuration error: one line, exit code 2, no traceback.

``python app.py`` / ``python -m sample_app`` use :func:`run_development` (the embedded
MongoDB when none is configured); the WSGI modules gunicorn imports use :func:`wsgi_app`
(a real MongoDB required). With ``preload_app`` the app is built once in gunicorn's master,
so a bad variable stops gunicorn once, before any worker starts; without it a worker that
cannot build the app exits with gunicorn's "app failed to load" code, which stops the
master instead of respawning the worker forever.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import NoReturn

from flask import Flask

from rainbond_kit.embedded import ensure_mongo
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.settings import Settings

__all__ = [
    "EXIT_CONFIGURATION",
    "exit_on_configuration_error",
    "fail",
    "production_settings",
    "run_development",
    "wsgi_app",
]

#: the exit code of a configuration error (the same as a command-line usage error)
EXIT_CONFIGURATION = 2
_GUNICORN_APP_LOAD_ERROR = 4  # gunicorn.arbiter.Arbiter.APP_LOAD_ERROR

AppFactory = Callable[[Settings], Flask]


def fail(error: ConfigurationError | str, code: int = EXIT_CONFIGURATION) -> NoReturn:
    """Print ``configuration error: <message>`` as one line on stderr and exit with ``code``."""
    message = " ".join(str(error).split())  # one line, whatever the message held
    # one write call: lines from several gunicorn workers never interleave
    sys.stderr.write(f"configuration error: {message}\n")
    sys.stderr.flush()
    raise SystemExit(code)


@contextmanager
def exit_on_configuration_error() -> Iterator[None]:
    """Turn a :class:`ConfigurationError` raised in the block into :func:`fail`."""
    try:
        yield
    except ConfigurationError as exc:
        fail(exc)


def production_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings, requiring a configured MongoDB (no embedded development server).

    :raises ConfigurationError: a variable is malformed, or no MongoDB is configured.
    """
    settings = Settings.from_env(env)
    if settings.mongo.embedded:
        raise ConfigurationError(
            "no MongoDB is configured: set MONGODB_URI, or MONGODB_HOST and MONGODB_PORT"
            " (a Rainbond dependency whose port alias is MONGODB injects them); the embedded"
            " development MongoDB only runs with `python app.py`"
        )
    return settings


def _in_gunicorn_worker() -> bool:
    frame = sys._getframe()
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).startswith("gunicorn.workers"):
            return True
        frame = frame.f_back  # type: ignore[assignment]  # None ends the walk
    return False


def wsgi_app(factory: AppFactory) -> Flask:
    """``factory(production_settings())`` for a WSGI server; a configuration error exits."""
    try:
        return factory(production_settings())
    except ConfigurationError as exc:
        fail(exc, _GUNICORN_APP_LOAD_ERROR if _in_gunicorn_worker() else EXIT_CONFIGURATION)


def run_development(factory: AppFactory, host: str = "0.0.0.0") -> int:  # noqa: S104
    """Serve ``factory``'s app with Flask's server on ``_PORT``/``PORT`` (default 5000).

    Starts the embedded MongoDB when none is configured; exits 2 on a configuration error.
    """
    with exit_on_configuration_error():
        Settings.from_env()  # a malformed variable stops us before anything starts
        ensure_mongo()
        settings = Settings.from_env()
        app = factory(settings)
    app.run(host=host, port=settings.port)
    return 0
