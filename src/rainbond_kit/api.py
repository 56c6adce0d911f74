"""The flask-smorest ``Api`` subclass: the envelope as error schema, Swagger UI served locally.

Rainbond clusters are often air-gapped, so ``/docs`` loads Swagger UI's assets from the
``flask-swagger-ui`` wheel (its ``dist/`` folder), served by this app under
``/docs/assets/``; no CDN is ever contacted.
"""

from __future__ import annotations

import http
import json
import logging
from pathlib import Path
from typing import Any

import flask_swagger_ui
from apispec import APISpec
from flask import Blueprint, Flask, Response, current_app, request, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException, InternalServerError

from rainbond_kit.data.store_errors import http_error_for
from rainbond_kit.envelope import EnvelopeSchema, render_error
from rainbond_kit.errors import BadRequestError
from rainbond_kit.i18n import SUPPORTED, DocText, app_language, localize, normalize
from rainbond_kit.openapi_examples import (
    decimal_attribute,
    envelope_example,
    example_attribute,
)

__all__ = ["SWAGGER_ASSETS", "SWAGGER_UI_CONFIG", "LocalizedSpec", "RainbondApi"]

log = logging.getLogger("rainbond_kit.errors")

SWAGGER_ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"
#: Swagger UI options: the ``token`` survives a reload, operations have shareable links
#: (``/docs#/books/listBooks``), "Try it out" is on and calls this same server.
SWAGGER_UI_CONFIG: dict[str, Any] = {
    "persistAuthorization": True,
    "deepLinking": True,
    "tryItOutEnabled": True,
    "displayOperationId": True,
    "displayRequestDuration": True,
    "filter": True,
}


#: statuses whose response description the kit translates (the errors it sends, 304)
_DESCRIBED = frozenset(
    {304, 400, 401, 403, 404, 405, 409, 412, 413, 415, 416, 422, 428, 429, 500, 503}
)


class LocalizedSpec(APISpec):
    """flask-smorest's spec, rendered with the kit's texts (:class:`DocText`) in a language."""

    #: the app's default language (``RAINBOND_LANG``), set by :class:`RainbondApi`
    language: str = "en"

    def to_dict(self) -> dict[str, Any]:
        """The document in :attr:`language`."""
        return self.to_dict_in(self.language)

    def to_dict_in(self, language: str) -> dict[str, Any]:
        """The document with the kit's texts in ``language`` (a user's own texts as written)."""
        document: dict[str, Any] = localize(super().to_dict(), language)
        return document


class RainbondApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest ``Api`` whose errors (documented and real) are the rainbond envelope."""

    ERROR_SCHEMA = EnvelopeSchema

    def _init_spec(self, *args: Any, **kwargs: Any) -> None:
        """flask-smorest's spec, plus a valid ``example`` on every schema property."""
        super()._init_spec(*args, **kwargs)
        # the same object, rendering in the app's language; flask-smorest builds a plain APISpec
        self.spec.__class__ = LocalizedSpec
        self.spec.language = app_language(self._app)
        self.ma_plugin.converter.add_attribute_function(decimal_attribute)
        self.ma_plugin.converter.add_attribute_function(example_attribute)

    def _openapi_json(self) -> Response:
        """``/openapi.json`` in the app's language, or the one ``?lang=`` names."""
        requested = request.args.get("lang")
        language = self.spec.language
        if requested is not None:
            language = normalize(requested)
            if language is None:
                raise BadRequestError(
                    f"lang must be one of {', '.join(SUPPORTED)}, got {requested!r}"
                )
        body = json.dumps(self.spec.to_dict_in(language), indent=2, ensure_ascii=False)
        return current_app.response_class(body, mimetype="application/json")

    def _register_responses(self) -> None:
        """One response per status (the envelope, with an example of it) and ``DEFAULT_ERROR``."""
        content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
        for status in http.HTTPStatus:
            phrase = DocText(status.phrase) if status in _DESCRIBED else status.phrase
            response: dict[str, Any] = {"description": phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            if status >= 400:
                response["example"] = envelope_example(status)
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {
            "description": DocText("Default error response"),
            "schema": self.ERROR_SCHEMA,
            "example": envelope_example(500),
        }
        prepare_response(response, self.spec, content_type)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

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
        "OPENAPI_SWAGGER_UI_CONFIG": SWAGGER_UI_CONFIG,
    }
