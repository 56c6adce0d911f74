"""JSON log lines on stdout (Rainbond's log collector reads the container's stdout)."""

from __future__ import annotations

import logging
import sys

from flask import Flask
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

from rainbond_kit.observability.request_id import RequestContextFilter

__all__ = ["configure_logging"]

_MARK = "_rainbond_kit_json"


def _json_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(RequestContextFilter())  # request_id (and trace_id) in request lines
    setattr(handler, _MARK, True)
    return handler


def configure_logging(app: Flask) -> None:
    """Give ``app.logger`` and the ``rainbond_kit`` loggers one JSON stdout handler each.

    The root logger is left alone (the host application owns it) and records still
    propagate to it, so the host's handlers (pytest's ``caplog``, an OpenTelemetry handler)
    see them too.
    """
    if not app.config["RAINBOND_JSON_LOGS"]:
        return
    for logger in (app.logger, logging.getLogger("rainbond_kit")):
        if not any(getattr(h, _MARK, False) for h in logger.handlers):
            logger.addHandler(_json_handler())
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
    app.logger.removeHandler(default_handler)
