"""Localized error messages: the kit's English messages in the client's language.

Translation happens at one place, where the envelope is rendered
(:func:`rainbond_kit.envelope.render_error`): raise sites keep writing English, the envelope
carries the message in the language :func:`request_language` picks. ``code``, ``status`` and
field names never change with the language. The OpenAPI texts the kit generates are
:class:`DocText`, rendered in the app's default language by :func:`localize`.
"""

from __future__ import annotations

from typing import Any

from rainbond_kit.i18n.catalog import Catalog, catalog_for
from rainbond_kit.i18n.doctext import DocText, localize
from rainbond_kit.i18n.negotiate import (
    DEFAULT_LANGUAGE,
    LANG_KEY,
    SUPPORTED,
    app_language,
    default_language,
    init_i18n,
    normalize,
    request_language,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANG_KEY",
    "SUPPORTED",
    "Catalog",
    "DocText",
    "app_language",
    "catalog_for",
    "default_language",
    "init_i18n",
    "localize",
    "normalize",
    "request_language",
    "translate",
    "translate_errors",
]

#: gettext locale folder of each supported language; English is the msgid itself.
_LOCALES = {"zh-CN": "zh_CN"}


def translate(message: str, language: str) -> str:
    """``message`` in ``language`` when the catalog knows it, else unchanged."""
    locale = _LOCALES.get(language)
    if locale is None:
        return message
    return catalog_for(locale).translate(message) or message


def translate_errors(errors: Any, language: str) -> Any:
    """Field-level ``errors`` with every known message translated; keys never change."""
    if language not in _LOCALES:
        return errors
    if isinstance(errors, str):
        return translate(errors, language)
    if isinstance(errors, dict):
        return {key: translate_errors(value, language) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [translate_errors(value, language) for value in errors]
    return errors
