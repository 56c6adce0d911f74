"""The ``rainbond-kit`` command: subcommands are loaded only when used.

``rainbond-kit -c NAME`` (the seed's spelling) is ``rainbond-kit new NAME``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from rainbond_kit.errors import ConfigurationError

__all__ = ["main"]

#: name -> "module:attribute" of a click command.
COMMANDS: dict[str, str] = {
    "backup": "rainbond_kit.backup.cli:backup",
    "restore": "rainbond_kit.backup.cli:restore",
    "token": "rainbond_kit.auth.cli:token",
    "new": "rainbond_kit.scaffold.cli:new",
    "doctor": "rainbond_kit.doctor.cli:doctor",
    "indexes": "rainbond_kit.index_cli:indexes",
}


class _LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; a configuration error is one line and exit code 2."""
        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            message = " ".join(str(exc).split())
            click.echo(f"configuration error: {message}", err=True)
            ctx.exit(2)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attr = COMMANDS[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module_name), attr)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, invoke_without_command=True)
@click.option("-c", "create", metavar="NAME", help="Create a component (same as `new NAME`).")
@click.version_option(package_name="rainbond-kit")
@click.pass_context
def main(ctx: click.Context, create: str | None) -> None:
    """rainbond-kit: build and run cloud-native Flask components on Rainbond."""
    if create is not None:
        new = main.get_command(ctx, "new")
        if new is None:  # pragma: no cover - the scaffold ships with the package
            raise click.UsageError("the scaffold command is not available")
        ctx.invoke(new, name=create)
    elif ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def run(argv: Sequence[str] | None = None) -> Any:
    """Entry point for tests: run the CLI without exiting the interpreter."""
    return main.main(args=list(argv or sys.argv[1:]), standalone_mode=False)


if __name__ == "__main__":  # python -m rainbond_kit.cli
    main()
