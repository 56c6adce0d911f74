"""``init_observability(app)``: request ids always; metrics and traces as configured."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from rainbond_kit.errors import ConfigurationError
from rainbond_kit.observability.request_id import install_request_id

__all__ = ["OBSERVABILITY_DEFAULTS", "init_observability", "metrics_enabled"]

#: Flask config keys (``None``: read the environment variable of the same name)
OBSERVABILITY_DEFAULTS: dict[str, Any] = {
    "RAINBOND_METRICS": None,
    "RAINBOND_METRICS_TOKEN": None,
    "RAINBOND_METRICS_MONGO_POOL": None,
    "RAINBOND_METRICS_MONGO_COMMANDS": None,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(app: Flask, name: str, default: str) -> bool:
    """A boolean setting: Flask config, else the environment, else ``default``.

    :raises ConfigurationError: the value is not a boolean word.
    """
    value = app.config.get(name)
    if value is None:
        value = os.environ.get(name, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() or default
    if text not in _TRUE | _FALSE:
        raise ConfigurationError(f"{name} must be 1 or 0 (true/false), got {value!r}")
    return text in _TRUE


def metrics_enabled(app: Flask) -> bool:
    """``RAINBOND_METRICS``: on unless it says 0/false/no/off.

    :raises ConfigurationError: the value is not a boolean word.
    """
    return _flag(app, "RAINBOND_METRICS", "1")


def init_observability(app: Flask, container: Any) -> None:
    """Request ids; ``/metrics`` and the metric hooks unless switched off; traces if asked.

    :param container: the app's :class:`~rainbond_kit.containers.Container`; its MongoDB
        client gets the monitoring listeners.
    :raises ConfigurationError: a setting is malformed.
    """
    for key, value in OBSERVABILITY_DEFAULTS.items():
        app.config.setdefault(key, value)
    if app.config["RAINBOND_METRICS_TOKEN"] is None:
        app.config["RAINBOND_METRICS_TOKEN"] = os.environ.get("RAINBOND_METRICS_TOKEN") or None
    install_request_id(app)
    if metrics_enabled(app):
        # imported here: prometheus-client must not load before PROMETHEUS_MULTIPROC_DIR is set
        from importlib.metadata import version

        from rainbond_kit.observability.http import install_http_metrics
        from rainbond_kit.observability.metrics import KIT_INFO
        from rainbond_kit.observability.mongo import OperationMetrics, mongo_listeners

        install_http_metrics(app)
        container.store_observer.set_provides(OperationMetrics())
        # pymongo's monitoring costs 15-20 us per command in events (the repository's own
        # timing about 1 us): opt-in (docs/performance.md, metrics cost)
        commands = _flag(app, "RAINBOND_METRICS_MONGO_COMMANDS", "0")
        pool = _flag(app, "RAINBOND_METRICS_MONGO_POOL", "0")
        if commands or pool:
            listeners = mongo_listeners(commands=commands, pool=pool)
            container.mongo_client.add_kwargs(event_listeners=listeners)
        KIT_INFO.labels(version("rainbond-kit")).set(1)
    from rainbond_kit.observability.tracing import init_tracing

    init_tracing(app)
