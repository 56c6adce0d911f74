"""A Flask app set up the rainbond-python way: ``error_handler(app)``, stores offline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from rainbond_kit import RainbondKit
from rainbond_kit.compat.error_handler import error_handler


def seed_app(
    monkeypatch: pytest.MonkeyPatch, simple_cors: bool = True, **config: Any
) -> Iterator[Flask]:
    """Yield ``Flask(...)`` + ``error_handler(app)``; its clients are closed afterwards."""
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    for name in ("MONGODB_URI", "MONGODB_HOST", "REDIS_HOST"):
        monkeypatch.delenv(name, raising=False)
    app = Flask("seed")
    app.config.update(TESTING=True, **config)
    error_handler(app, simple_cors=simple_cors)
    yield app
    RainbondKit.shutdown(app)
