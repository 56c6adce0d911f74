"""RainbondKit(app) changes nothing of the host's behind its back (issue 11)."""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
from flask import Flask

from rainbond_kit import RainbondKit, Settings, get_container


def test_host_json_provider_is_left_alone(offline_settings: Settings) -> None:
    """app.json.ensure_ascii keeps Flask's default; the envelope still sends Chinese unescaped."""
    app = Flask("host")
    app.config["RAINBOND_ERROR_MESSAGES"] = {404: "资源不存在"}
    RainbondKit(app, settings=offline_settings)
    assert app.json.ensure_ascii is True  # type: ignore[attr-defined]
    raw = app.test_client().get("/missing").get_data()
    assert "资源不存在".encode() in raw
    assert b"\\u" not in raw
    RainbondKit.shutdown(app)


def test_loggers_still_propagate_to_the_host(
    offline_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The app's and the library's records reach root handlers (caplog here)."""
    app = Flask("logs")
    RainbondKit(app, settings=offline_settings)
    assert app.logger.propagate is True
    assert logging.getLogger("rainbond_kit").propagate is True
    with caplog.at_level(logging.INFO):
        app.logger.info("seen by the host")
    assert "seen by the host" in caplog.text
    RainbondKit.shutdown(app)


def test_process_hooks_are_installed_at_most_once(
    offline_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three apps add at most one atexit and one at-fork hook (none once installed)."""
    registered: list[Any] = []
    monkeypatch.setattr("atexit.register", lambda func, *a, **k: registered.append(func))
    monkeypatch.setattr(os, "register_at_fork", lambda **hooks: registered.append(hooks))
    apps = [Flask(f"app{i}") for i in range(3)]
    for app in apps:
        RainbondKit(app, settings=offline_settings)
    assert len(registered) <= 2
    for app in apps:
        get_container(app)  # still reachable
        RainbondKit.shutdown(app)
