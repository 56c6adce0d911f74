"""Integration fixtures shared by modules that exercise the sample app in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings, wait_for_indexes


@pytest.fixture
def app(rainbond_settings: Settings) -> Iterator[Flask]:
    """The sample app over the real test servers (a module may define its own ``app``), its
    indexes built first: no background builder thread runs beside a test (pymongo's server
    selection draws from ``random`` there, which hypothesis reports inside a strategy)."""
    app = create_app(rainbond_settings, {"TESTING": True})
    assert wait_for_indexes(app)
    yield app
    RainbondKit.shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
