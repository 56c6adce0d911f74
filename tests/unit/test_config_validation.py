"""RAINBOND_* behaviour keys are validated once, in init_app, not on every request.

Regression (issue 11): a malformed RAINBOND_TRUSTED_PROXIES or RAINBOND_RATELIMIT_STRATEGY
was read per request and turned every request into a 500.
"""

from __future__ import annotations

import pytest
from flask import Flask

from rainbond_kit import ConfigurationError, RainbondKit, Settings


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "RAINBOND_TRUSTED_PROXIES",
            "two",
            r"RAINBOND_TRUSTED_PROXIES must be the number of proxies in front \(0, or 1 behind "
            r"Rainbond's gateway\), got 'two'",
        ),
        ("RAINBOND_TRUSTED_PROXIES", "-1", r"RAINBOND_TRUSTED_PROXIES must be .*, got '-1'"),
        ("RAINBOND_RATELIMIT_STRATEGY", "leaky", "must be fixed or sliding, got 'leaky'"),
        ("RAINBOND_RATELIMIT", "lots", "RAINBOND_RATELIMIT"),
    ],
)
def test_malformed_key_fails_at_init_app(
    offline_settings: Settings, key: str, value: str, message: str
) -> None:
    """The app factory raises one ConfigurationError naming the key."""
    app = Flask("bad")
    app.config[key] = value
    with pytest.raises(ConfigurationError, match=message):
        RainbondKit(app, settings=offline_settings)


def test_environment_default_is_validated_too(
    offline_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An environment value (the default when app.config has none) is checked the same way."""
    monkeypatch.setenv("RAINBOND_TRUSTED_PROXIES", "x")
    with pytest.raises(ConfigurationError, match="RAINBOND_TRUSTED_PROXIES"):
        RainbondKit(Flask("env"), settings=offline_settings)


def test_valid_keys_are_accepted(offline_settings: Settings) -> None:
    """Control: well-formed values start the app."""
    app = Flask("good")
    app.config.update(
        RAINBOND_TRUSTED_PROXIES="2",
        RAINBOND_RATELIMIT_STRATEGY="fixed",
        RAINBOND_RATELIMIT="5/second",
    )
    RainbondKit(app, settings=offline_settings)
    RainbondKit.shutdown(app)
