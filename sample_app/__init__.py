"""The sample books service: rainbond-kit's tutorial, runnable with ``python -m sample_app``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from rainbond_kit import RainbondKit, Settings, get_api

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory; ``settings`` default to the environment."""
    from sample_app.books import blueprint as books
    from sample_app.demo import blueprint as demo

    app = Flask(__name__)
    app.config.update(config or {})
    RainbondKit(app, settings=settings, title="Books service", version="1.0.0")
    get_api(app).register_blueprint(books)
    get_api(app).register_blueprint(demo)
    return app
