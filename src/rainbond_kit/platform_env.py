"""The names Rainbond gives the platform's own variables, old and new.

Rainbond 6 prefixes every variable it injects with ``_`` (``_PORT``, ``_SERVICE_NAME``,
``_POD_NAME``, ...); earlier versions inject ``PORT``, ``SERVICE_NAME``, ``POD_NAME``. Each
value is read from the new name first, then the old one, then a default.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from rainbond_kit.env import first, port
from rainbond_kit.errors import ConfigurationError

__all__ = [
    "DEFAULT_PORT",
    "PORT_VARIABLES",
    "TRUSTED_PROXIES",
    "host_name",
    "port_source",
    "resolve_port",
    "service_name",
    "trusted_proxy_count",
]

DEFAULT_PORT = 5000
#: where the listening port is read from, first match wins
PORT_VARIABLES = ("_PORT", "PORT")
#: how many proxies in front (Rainbond's gateway is one) may set ``X-Forwarded-*``
TRUSTED_PROXIES = "RAINBOND_TRUSTED_PROXIES"
_SERVICE_VARIABLES = ("_SERVICE_NAME", "SERVICE_NAME")
_POD_VARIABLES = ("_POD_NAME", "POD_NAME", "HOSTNAME")


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    return first(env, *names)


def port_source(env: Mapping[str, str] | None = None) -> str | None:
    """The variable the port comes from (``_PORT`` or ``PORT``), ``None`` for the default."""
    found = _first(os.environ if env is None else env, PORT_VARIABLES)
    return found[0] if found else None


def resolve_port(env: Mapping[str, str] | None = None, default: int = DEFAULT_PORT) -> int:
    """The port to listen on: ``_PORT``, else ``PORT``, else ``default``.

    :raises ConfigurationError: the variable found is not a port number; the message names it.
    """
    environ = os.environ if env is None else env
    found = _first(environ, PORT_VARIABLES)
    return default if found is None else port(environ, found[0], default)


def service_name(env: Mapping[str, str] | None = None) -> str:
    """The component's service name (``_SERVICE_NAME``, else ``SERVICE_NAME``), or ``""``."""
    found = _first(os.environ if env is None else env, _SERVICE_VARIABLES)
    return found[1] if found else ""


def host_name(env: Mapping[str, str] | None = None) -> str:
    """This instance's name: ``_POD_NAME``, else ``POD_NAME``/``HOSTNAME``, else the kernel's."""
    found = _first(os.environ if env is None else env, _POD_VARIABLES)
    if found:
        return found[1]
    try:
        return socket.gethostname()
    except OSError:  # pragma: no cover - the kernel always has a host name
        return ""


def trusted_proxy_count(env: Mapping[str, str] | None = None) -> int:
    """``RAINBOND_TRUSTED_PROXIES``: how many proxy hops to trust (default 0, none).

    :raises ConfigurationError: not a whole number >= 0.
    """
    raw = (os.environ if env is None else env).get(TRUSTED_PROXIES, "").strip() or "0"
    try:
        hops = int(raw)
    except ValueError:
        hops = -1
    if hops < 0:
        raise ConfigurationError(
            f"{TRUSTED_PROXIES} must be the number of proxies in front (0, or 1 behind"
            f" Rainbond's gateway), got {raw!r}"
        )
    return hops
