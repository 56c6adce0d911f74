"""Rainbond 6's ``_``-prefixed platform variables win over the older names."""

from __future__ import annotations

import pytest

from rainbond_kit import ConfigurationError, Settings
from rainbond_kit.platform_env import host_name, port_source, resolve_port, service_name


@pytest.mark.parametrize(
    ("env", "port", "source"),
    [
        ({"_PORT": "8080", "PORT": "9000"}, 8080, "_PORT"),
        ({"_PORT": "8080"}, 8080, "_PORT"),
        ({"PORT": "9000"}, 9000, "PORT"),
        ({"_PORT": " ", "PORT": "9000"}, 9000, "PORT"),
        ({}, 5000, None),
    ],
)
def test_port_comes_from_underscore_port_then_port_then_default(
    env: dict[str, str], port: int, source: str | None
) -> None:
    """``_PORT`` (Rainbond 6) beats ``PORT`` (older Rainbond), which beats 5000."""
    assert resolve_port(env) == port
    assert port_source(env) == source
    assert Settings.from_env(env).port == port


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"_PORT": "http"}, "_PORT must be a port number (1-65535), got 'http'"),
        ({"_PORT": "0", "PORT": "80"}, "_PORT must be a port number (1-65535), got 0"),
        ({"PORT": "65536"}, "PORT must be a port number (1-65535), got 65536"),
    ],
)
def test_a_bad_port_names_the_variable_it_came_from(env: dict[str, str], message: str) -> None:
    """The error names ``_PORT`` or ``PORT``, whichever was read, and what is accepted."""
    with pytest.raises(ConfigurationError) as info:
        resolve_port(env)
    assert str(info.value) == message


def test_service_and_host_names_prefer_the_new_variables() -> None:
    """``_SERVICE_NAME``/``_POD_NAME`` first, the old names as fallback."""
    assert service_name({"_SERVICE_NAME": "new", "SERVICE_NAME": "old"}) == "new"
    assert service_name({"SERVICE_NAME": "old"}) == "old"
    assert service_name({}) == ""
    assert host_name({"_POD_NAME": "gr-1", "POD_NAME": "old", "HOSTNAME": "h"}) == "gr-1"
    assert host_name({"POD_NAME": "old", "HOSTNAME": "h"}) == "old"
    assert host_name({"HOSTNAME": "h"}) == "h"
    assert host_name({}) != ""
