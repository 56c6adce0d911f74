"""Per-app state of the extension, kept in ``app.extensions["rainbond_kit"]``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dependency_injector import containers
from flask import Flask, current_app

if TYPE_CHECKING:
    from rainbond_kit.api import RainbondApi
    from rainbond_kit.containers import Container
    from rainbond_kit.settings import Settings

__all__ = ["KitState", "add_init_hook", "get_api", "get_container", "get_state", "run_init_hooks"]

EXTENSION_KEY = "rainbond_kit"


@dataclass
class KitState:
    """What :class:`~rainbond_kit.RainbondKit` built for one app."""

    container: Container
    settings: Settings
    api: RainbondApi
    redis_enabled: bool
    #: resources whose declared indexes exist (created before their first request)
    indexed: set[str] = field(default_factory=set)
    #: containers a feature adds over the core's clients (``"auth"``)
    features: dict[str, containers.Container] = field(default_factory=dict)
    #: guards one-time work done on a request thread (index creation, feature containers)
    lock: threading.Lock = field(default_factory=threading.Lock)


def get_state(app: Flask | None = None) -> KitState:
    """Return the extension state of ``app`` (default: the current app)."""
    app = app or current_app
    try:
        state: KitState = app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "rainbond-kit is not initialised on this app: call RainbondKit(app) first"
        ) from None
    return state


def get_container(app: Flask | None = None) -> Container:
    """Return the dependency-injector container of ``app`` (default: the current app)."""
    return get_state(app).container


def get_api(app: Flask | None = None) -> RainbondApi:
    """Return the flask-smorest ``Api`` of ``app``; register blueprints on it."""
    return get_state(app).api


#: run at the end of every ``RainbondKit.init_app``, in order (see :func:`add_init_hook`)
_INIT_HOOKS: list[Callable[[Flask], None]] = []


def add_init_hook(hook: Callable[[Flask], None]) -> Callable[[], None]:
    """Run ``hook(app)`` when any app is initialised from now on; return its remover.

    ``rainbond_kit.testing.override_on_init`` uses it to put test clients in place before an
    app factory goes on (e.g. to ``init_auth``, which registers permissions in MongoDB).
    """
    _INIT_HOOKS.append(hook)
    return lambda: _INIT_HOOKS.remove(hook) if hook in _INIT_HOOKS else None


def run_init_hooks(app: Flask) -> None:
    """Run the hooks :func:`add_init_hook` added (``RainbondKit.init_app`` calls it last)."""
    for hook in tuple(_INIT_HOOKS):
        hook(app)
