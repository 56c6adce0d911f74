"""``rainbond-kit new NAME``: create a Rainbond-ready component project."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from rainbond_kit.i18n import SUPPORTED
from rainbond_kit.scaffold.project import (
    NAME_RULE,
    ScaffoldError,
    create_component,
    locale_language,
    validate_name,
)

__all__ = ["new", "run_commands"]

EPILOG = """\b
Examples:
  rainbond-kit new demo_component
  rainbond-kit -c demo_component          (the original rainbond-python spelling)
  rainbond-kit new orders-api --directory ~/projects
  rainbond-kit new demo --lang zh-CN          (README in Chinese)
  rainbond-kit new demo --kit-requirement 'rainbond-kit @ git+https://example.com/rainbond-kit.git@v0.1.0'
"""


def run_commands(target: Path) -> list[str]:
    """The shell commands that install and start the created component."""
    return [
        f"cd {shlex.quote(str(target))}",
        "python3 -m venv .venv",
        ".venv/bin/pip install -r requirements-dev.txt",
        ".venv/bin/python app.py",
    ]


@click.command(
    "new",
    epilog=EPILOG,
    short_help="Create a Rainbond-ready component project NAME.",
    help=(
        "Create the component project NAME in a new folder: a Flask app with an example"
        " REST resource on MongoDB, tests, a Procfile and gunicorn settings for Rainbond."
        " The running rainbond-kit is copied into its vendor/ folder as a wheel, so it"
        " installs where no package index has rainbond-kit."
        f" NAME: {NAME_RULE}. An existing folder is never overwritten."
    ),
)
@click.argument("name")
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default="current directory",
    help="Folder in which to create NAME.",
)
@click.option(
    "--kit-requirement",
    metavar="LINE",
    default=None,
    help=(
        "Write this requirement line for rainbond-kit instead of vendoring the running one,"
        " e.g. 'rainbond-kit==0.1.0' (from an index) or 'rainbond-kit @ git+https://...'."
    ),
)
@click.option(
    "--lang",
    "language",
    type=click.Choice(SUPPORTED, case_sensitive=False),
    default=None,
    show_default="from the locale (LC_ALL, LANG)",
    help="Language of the component's README.",
)
def new(name: str, directory: Path, kit_requirement: str | None, language: str | None) -> None:
    try:
        validate_name(name)
    except ScaffoldError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    try:
        target = create_component(
            name,
            Path(directory),
            kit_requirement=kit_requirement,
            language=_canonical(language) if language else locale_language(os.environ),
        )
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Successfully created `{name}` component. Run command:")
    for command in run_commands(target):
        click.echo(f"$ {command}")


def _canonical(language: str) -> str:
    return next(tag for tag in SUPPORTED if tag.lower() == language.lower())
