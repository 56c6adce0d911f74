"""``rainbond-kit doctor [--json] [--app MODULE] [--directory DIR]``."""

from __future__ import annotations

from pathlib import Path

import click

from rainbond_kit.doctor import exit_code, render_json, render_text, run_checks

__all__ = ["doctor"]


@click.command(
    "doctor",
    short_help="Check this component's deployment configuration.",
    help=(
        "Check the configuration the app reads, in the component's folder or its running"
        " container: variables (secrets redacted), the port it binds, MongoDB and Redis"
        " reachable, declared indexes present, sort fields without an index, auth, trusted"
        " proxies, the Procfile command. Exit 0 when every check passes, 1 otherwise; each"
        " failure says how to fix it."
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option(
    "--app",
    "app_module",
    metavar="MODULE",
    default=None,
    help="Module defining the resources (default: the Procfile's gunicorn app module).",
)
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path(),
    show_default="current directory",
    help="The component's folder (with its Procfile).",
)
def doctor(as_json: bool, app_module: str | None, directory: Path) -> None:
    checks = run_checks(directory.resolve(), app_module=app_module)
    click.echo(render_json(checks) if as_json else render_text(checks))
    raise SystemExit(exit_code(checks))
