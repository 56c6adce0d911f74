"""Shared fixtures: real servers come from the ``rainbond_kit.testing`` plugin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from rainbond_kit import RainbondKit, Settings
from rainbond_kit.settings import MongoSettings, RedisSettings

pytest_plugins = ["rainbond_kit.testing"]


@pytest.fixture
def offline_settings() -> Settings:
    """Settings naming servers that do not exist (unit tests override the clients)."""
    return Settings(
        mongo=MongoSettings(
            uri="mongodb://127.0.0.1:1/",
            database="unit",
            embedded=False,
            server_selection_timeout_ms=200,
        ),
        redis=RedisSettings(url="redis://127.0.0.1:1/0", configured=True, socket_timeout=0.2),
    )


@pytest.fixture
def bare_app(offline_settings: Settings) -> Iterator[Flask]:
    """A Flask app with RainbondKit and no real stores (for unit tests)."""
    app = Flask("unit")
    app.config["TESTING"] = True
    RainbondKit(app, settings=offline_settings)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def bare_client(bare_app: Flask) -> FlaskClient:
    return bare_app.test_client()


KitAppFactory = Callable[..., Flask]


@pytest.fixture
def make_kit_app() -> Iterator[KitAppFactory]:
    """Factory: ``make_kit_app(settings_or_env, **config)`` -> app; clients closed at teardown."""
    apps: list[Flask] = []

    def make(settings: Settings | dict[str, str], **config: Any) -> Flask:
        if isinstance(settings, dict):
            settings = Settings.from_env(settings)
        app = Flask(f"kit{len(apps)}")
        app.config["TESTING"] = True
        app.config.update(config)
        RainbondKit(app, settings=settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        RainbondKit.shutdown(app)
