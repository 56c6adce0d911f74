"""CORS is on by default and never reflects an arbitrary Origin with credentials."""

from __future__ import annotations

import pytest
from flask import Flask

from rainbond_kit import ConfigurationError, RainbondKit, Settings


def _app(settings: Settings, **config: object) -> Flask:
    app = Flask("cors")
    app.config.update(config)
    RainbondKit(app, settings=settings)

    @app.get("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def test_default_is_star_without_credentials(offline_settings: Settings) -> None:
    """Any origin may read, but no credentials header is ever sent."""
    response = (
        _app(offline_settings)
        .test_client()
        .get("/ping", headers={"Origin": "https://evil.example"})
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_listed_origins_with_credentials(offline_settings: Settings) -> None:
    """With an explicit list, only listed origins are echoed with credentials."""
    app = _app(
        offline_settings,
        RAINBOND_CORS_ORIGINS="https://ui.example, https://admin.example",
        RAINBOND_CORS_CREDENTIALS=True,
    )
    client = app.test_client()
    good = client.get("/ping", headers={"Origin": "https://ui.example"})
    assert good.headers["Access-Control-Allow-Origin"] == "https://ui.example"
    assert good.headers["Access-Control-Allow-Credentials"] == "true"
    evil = client.get("/ping", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers
    assert "Access-Control-Allow-Credentials" not in evil.headers


def test_star_with_credentials_is_refused(offline_settings: Settings) -> None:
    """'*' plus credentials would reflect any origin: refused at start-up."""
    with pytest.raises(ConfigurationError, match="RAINBOND_CORS_CREDENTIALS"):
        _app(offline_settings, RAINBOND_CORS_CREDENTIALS=True)


def test_cors_can_be_turned_off(offline_settings: Settings) -> None:
    response = (
        _app(offline_settings, RAINBOND_CORS=False)
        .test_client()
        .get("/ping", headers={"Origin": "https://ui.example"})
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_errors_carry_cors_headers(offline_settings: Settings) -> None:
    """A browser can read error envelopes too."""
    response = (
        _app(offline_settings)
        .test_client()
        .get("/missing", headers={"Origin": "https://ui.example"})
    )
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"
