"""The message catalogs: gettext ``.mo`` files compiled from the ``.po`` a translator edits.

The msgids are the kit's English messages, written as templates: ``no document with id {id}``.
The kit raises its errors with the English text already formatted, so a message is looked up
exactly first, then matched against the templates (the placeholders become non-greedy groups);
the values found are put into the translated template. Some placeholders hold words the
catalog translates too: ``{detail}`` (a nested kit message, ``created: invalid date ...``),
``{obj_type}``/``{awareness}`` (marshmallow's ``Not a valid datetime.``) must be in the catalog
for the template to match, so ``Not a valid phone.`` from an application's schema stays as
written; ``{store}`` is translated when the catalog knows it. Text that matches nothing is
returned unchanged: messages an application writes stay as written.
"""

from __future__ import annotations

import functools
import gettext
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DOMAIN", "LOCALES", "Catalog", "catalog_for", "placeholders"]

#: Where ``<locale>/LC_MESSAGES/rainbond_kit.mo`` live (shipped in the wheel).
LOCALES = Path(__file__).parent / "locales"
DOMAIN = "rainbond_kit"

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REQUIRED = frozenset({"detail", "obj_type", "awareness"})
_OPTIONAL = frozenset({"store"})
#: how gettext keys an entry with a context (``msgctxt``) in a compiled catalog
_CONTEXT_SEPARATOR = "\x04"


def placeholders(msgid: str) -> list[str]:
    """The placeholder names of a template, in order."""
    return _PLACEHOLDER.findall(msgid)


@dataclass(frozen=True)
class _Template:
    pattern: re.Pattern[str]
    translation: str


def _compile(msgid: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in _PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[position : match.start()]))
        name = match.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        position = match.end()
    parts.append(re.escape(msgid[position:]))
    return re.compile("".join(parts), re.DOTALL)


class Catalog:
    """English message -> translated message, for one language."""

    def __init__(self, translations: Mapping[str, str]) -> None:
        # entries with a gettext context ("context\x04msgid") are looked up by entry() only
        self._entries = {msgid: text for msgid, text in translations.items() if msgid and text}
        translations = {k: v for k, v in translations.items() if _CONTEXT_SEPARATOR not in k}
        self._msgids = frozenset(msgid for msgid, text in translations.items() if msgid and text)
        self._exact = {
            msgid: text
            for msgid, text in translations.items()
            if msgid and text and not _PLACEHOLDER.search(msgid)
        }
        templated = [
            (msgid, text)
            for msgid, text in translations.items()
            if msgid and text and _PLACEHOLDER.search(msgid)
        ]
        # The most specific template (most literal text) wins.
        templated.sort(key=lambda pair: -len(_PLACEHOLDER.sub("", pair[0])))
        self._templates = [_Template(_compile(msgid), text) for msgid, text in templated]

    @property
    def msgids(self) -> frozenset[str]:
        """Every message this catalog translates (exact texts and templates)."""
        return self._msgids

    def entry(self, msgid: str, *, context: str | None = None) -> str | None:
        """The translation of one catalog entry, placeholders unfilled; ``None`` if absent."""
        key = msgid if context is None else f"{context}{_CONTEXT_SEPARATOR}{msgid}"
        return self._entries.get(key)

    def translate(self, message: str) -> str | None:
        """The translation of ``message``, or ``None`` when the catalog does not know it."""
        exact = self._exact.get(message)
        if exact is not None:
            return exact
        for template in self._templates:
            match = template.pattern.fullmatch(message)
            if match is None:
                continue
            values = self._values(match.groupdict())
            if values is None:
                continue
            return _fill(template.translation, values)
        return None

    def _values(self, values: dict[str, str]) -> dict[str, str] | None:
        """Translate the placeholders that hold catalog words; ``None`` when one must but cannot."""
        for name in _REQUIRED.union(_OPTIONAL).intersection(values):
            translated = self.translate(values[name])
            if translated is None and name in _REQUIRED:
                return None
            values[name] = translated or values[name]
        return values


def _fill(translation: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda found: values.get(found.group(1), found.group()), translation)


def _read(locale: str) -> dict[str, str]:
    with (LOCALES / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    # GNUTranslations keeps the parsed .mo in ``_catalog`` (stable since Python 2); the
    # template matcher needs every msgid, which the public gettext() API cannot list.
    catalog: dict[str, str] = vars(translations)["_catalog"]
    return {msgid: text for msgid, text in catalog.items() if isinstance(msgid, str)}


@functools.cache
def catalog_for(locale: str) -> Catalog:
    """The catalog of a gettext locale folder (``zh_CN``), read once per process."""
    return Catalog(_read(locale))
