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


def _allowed(app: Flask, origin: str) -> str | None:
    response = app.test_client().get("/ping", headers={"Origin": origin})
    return response.headers.get("Access-Control-Allow-Origin")


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.example.com", True),
        ("https://deep.a.example.com", True),
        ("https://A.Example.COM", True),
        ("https://example.com", False),  # '*.' means a subdomain, not the apex
        ("https://aexample.com", False),
        ("https://aexample.com.attacker.net", False),  # '.' is not "any character"
        ("https://a.example.com.attacker.net", False),
        ("http://a.example.com", False),  # scheme is part of the origin
        ("https://a.example.com:8443", False),  # so is the port
        ("https://ui.example", True),
        ("https://ui.example.evil", False),
        ("https://uiXexample", False),
    ],
)
def test_wildcard_subdomain_patterns_mean_what_they_say(
    offline_settings: Settings, origin: str, allowed: bool
) -> None:
    """Configured origins are not regexes: '*.' is one or more subdomain labels, '.' is a dot."""
    app = _app(
        offline_settings,
        RAINBOND_CORS_ORIGINS="https://*.example.com, https://ui.example",
        RAINBOND_CORS_CREDENTIALS=True,
    )
    assert _allowed(app, origin) == (origin if allowed else None)


@pytest.mark.parametrize(
    "origin",
    [
        "https://ui.example/",  # a path
        "https://*example.com",  # wildcard not before a dot
        "https://a.*.example.com",  # wildcard not leftmost
        "https://.*\\.example\\.com",  # a regex
        "ui.example",  # no scheme
        "https://ui.example:99999",
        "https://ui.example:80:80",
    ],
)
def test_malformed_origins_are_refused_at_start_up(offline_settings: Settings, origin: str) -> None:
    with pytest.raises(ConfigurationError, match="RAINBOND_CORS_ORIGINS") as raised:
        _app(offline_settings, RAINBOND_CORS_ORIGINS=origin, RAINBOND_CORS_CREDENTIALS=True)
    assert repr(origin) in str(raised.value)


def test_every_header_the_kit_documents_is_readable_cross_origin(
    offline_settings: Settings,
) -> None:
    """A browser client may read the headers the kit sends and documents: list counts and
    their strategy, paging links, ETags, rate limits, the request id, idempotent replays."""
    response = (
        _app(offline_settings).test_client().get("/ping", headers={"Origin": "https://app.example"})
    )
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed >= {
        "Location", "ETag", "Link", "X-Total-Count", "X-Total-Count-Strategy",
        "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Request-ID",
        "Idempotent-Replayed", "Retry-After",
    }  # fmt: skip
