"""Behind Rainbond's gateway: ``X-Forwarded-*`` honoured only from trusted proxies."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sample_app import create_app

from rainbond_kit import ConfigurationError, RainbondKit, Settings

URL = "/api/v1/books"
GATEWAY = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "books.example.com",
    "X-Forwarded-For": "203.0.113.7",
}


MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(rainbond_settings: Settings) -> Iterator[MakeApp]:
    """Factory: the sample app on the test MongoDB with extra config; clients closed after."""
    apps: list[Flask] = []

    def make(**config: object) -> Flask:
        app = create_app(rainbond_settings, {"TESTING": True, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        RainbondKit.shutdown(app)


def _next_link(app: Flask) -> str:
    client = app.test_client()
    for title in ("a", "b"):
        assert client.post(URL, json={"title": title, "author": "x"}).status_code == 201
    response = client.get(f"{URL}?$limit=1", headers=GATEWAY)
    assert response.status_code == 200
    return response.headers["Link"]


def test_trusted_gateway_makes_links_https(make_app: MakeApp) -> None:
    """RAINBOND_TRUSTED_PROXIES=1: the Link header uses the gateway's scheme and host."""
    link = _next_link(make_app(RAINBOND_TRUSTED_PROXIES=1))
    assert link.startswith("<https://books.example.com/api/v1/books?"), link


def test_untrusted_forwarded_headers_are_ignored(make_app: MakeApp) -> None:
    """Control: without trusted proxies a client cannot choose the scheme or host."""
    link = _next_link(make_app())
    assert link.startswith("<http://localhost/api/v1/books?"), link


def test_bad_trusted_proxy_count_is_a_start_up_error(make_app: MakeApp) -> None:
    """A value that is not a whole number stops init_app with the variable named."""
    with pytest.raises(ConfigurationError, match="RAINBOND_TRUSTED_PROXIES must be the number"):
        make_app(RAINBOND_TRUSTED_PROXIES="gateway")
