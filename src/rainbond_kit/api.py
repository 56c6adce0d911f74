"""The flask-smorest ``Api`` subclass: the envelope as error schema, Swagger UI served locally.

Rainbond clusters are often air-gapped, so ``/docs`` loads Swagger UI's assets from the
``flask-swagger-ui`` wheel (its ``dist/`` folder), served by this app under
``/docs/assets/``; no CDN is ever contacted.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import Blueprint, Flask, Response, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from rainbond_kit.data.store_errors import http_error_for
from rainbond_kit.envelope import EnvelopeSchema, render_error

__all__ = ["SWAGGER_ASSETS", "RainbondApi"]

log = logging.getLogger("rainbond_kit.errors")

SWAGGER_ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"


class RainbondApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest ``Api`` whose errors (documented and real) are the rainbond envelope."""

    ERROR_SCHEMA = EnvelopeSchema

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, self.handle_http_exception)
        self._app.register_error_handler(Exception, self.handle_unexpected_exception)

    def handle_http_exception(self, error: HTTPException) -> Response:
        """Render a werkzeug/Flask/webargs HTTP error as the envelope."""
        return render_error(error)

    def handle_unexpected_exception(self, error: Exception) -> Response:
        """Translate a driver error (:func:`~rainbond_kit.data.store_errors.http_error_for`), else a bare 500.

        Repositories already translate driver errors; this is the safety net for code
        that talks to a client directly. The detail goes to the log, never to the client.
        """
        translated = http_error_for(error)
        if translated is not None:
            return render_error(translated)
        wrapped = InternalServerError(original_exception=error)
        return render_error(wrapped)


def register_swagger_assets(app: Flask, url_prefix: str) -> None:
    """Serve Swagger UI's files from the installed wheel under ``url_prefix``."""
    blueprint = Blueprint("rainbond_kit_swagger_assets", __name__, url_prefix=url_prefix)

    @blueprint.get("/<path:filename>")
    def swagger_asset(filename: str) -> Response:
        return send_from_directory(SWAGGER_ASSETS, filename, max_age=86400)

    app.register_blueprint(blueprint)


def api_defaults(title: str, version: str) -> dict[str, Any]:
    """flask-smorest settings rainbond-kit defaults to (``app.config`` values win)."""
    return {
        "API_TITLE": title,
        "API_VERSION": version,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/docs/assets/",
    }
