"""Which language an error message is written in: ``Accept-Language``, else ``RAINBOND_LANG``.

``RAINBOND_LANG`` (a Flask config key whose default is the environment variable of the same
name) is validated once by :func:`init_i18n`; a request's ``Accept-Language`` is matched
with its q-values (werkzeug's parsed ``request.accept_languages``, best first). Any English
(``en-GB``) is ``en``, Simplified Chinese (``zh``, ``zh-Hans``, ``zh-SG``) is ``zh-CN``; a
language the kit does not speak (``zh-TW`` included) falls back to the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask, current_app, has_app_context, has_request_context, request

from rainbond_kit.errors import ConfigurationError

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANG_KEY",
    "SUPPORTED",
    "app_language",
    "default_language",
    "init_i18n",
    "normalize",
    "request_language",
]

LANG_KEY = "RAINBOND_LANG"
DEFAULT_LANGUAGE = "en"
#: The languages the kit's messages exist in (BCP 47 tags, as ``Accept-Language`` writes them).
SUPPORTED = ("en", "zh-CN")
_EXTENSION_KEY = "rainbond_kit.i18n"
_CHINESE = frozenset({"zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg", "zh-hans-sg"})


def normalize(value: str) -> str | None:
    """A supported tag for a language name (``zh_CN.UTF-8``, ``zh-Hans``, ``en_US``), else ``None``.

    Simplified Chinese names map to ``zh-CN``, any English to ``en``; ``C``/``POSIX`` (a
    container's locale) are English.
    """
    tag = value.strip().split(".")[0].split("@")[0].replace("_", "-").lower()
    if tag in _CHINESE:
        return "zh-CN"
    if tag in ("c", "posix") or tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def _configured(raw: object) -> str:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_LANGUAGE
    language = normalize(raw) if isinstance(raw, str) else None
    if language is None:
        raise ConfigurationError(f"{LANG_KEY} must be one of {', '.join(SUPPORTED)}, got {raw!r}")
    return language


def init_i18n(app: Flask, environ: Mapping[str, str] | None = None) -> str:
    """Validate ``RAINBOND_LANG`` (``app.config`` beats the environment) and keep it.

    :raises ConfigurationError: the value names a language the kit does not speak.
    """
    raw = app.config.get(LANG_KEY)
    if raw is None or raw == "":
        raw = (os.environ if environ is None else environ).get(LANG_KEY)
    language = _configured(raw)
    app.extensions[_EXTENSION_KEY] = language
    return language


def app_language(app: Flask) -> str:
    """``app``'s validated ``RAINBOND_LANG`` (English before :func:`init_i18n`)."""
    language = app.extensions.get(_EXTENSION_KEY)
    return language if isinstance(language, str) else DEFAULT_LANGUAGE


def default_language() -> str:
    """The current app's validated ``RAINBOND_LANG`` (English outside an initialised app)."""
    if has_app_context():
        language = current_app.extensions.get(_EXTENSION_KEY)
        if isinstance(language, str):
            return language
    return DEFAULT_LANGUAGE


def request_language() -> str:
    """The best of :data:`SUPPORTED` for this request's ``Accept-Language``, else the default."""
    default = default_language()
    if not has_request_context():
        return default
    # werkzeug lists the ranges by q-value, highest first (q=0 means "not this one"); the
    # first we speak wins, so ``en-US;q=0.9, zh-CN;q=0.3`` is English, unlike
    # ``best_match``, which prefers any exact tag over the client's higher-ranked region.
    for value, quality in request.accept_languages:
        if quality <= 0:
            continue
        if value == "*":
            return default
        language = normalize(value)
        if language is not None:
            return language
    return default
