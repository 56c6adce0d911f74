"""The CLI reports a configuration error as one line with exit code 2."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from rainbond_kit import cli
from rainbond_kit.errors import ConfigurationError


@click.command("broken")
def _broken() -> None:
    raise ConfigurationError(
        "MONGODB_PORT must be a port number (1-65535), got 'abc'\n(second line)"
    )


def test_configuration_error_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any subcommand raising ConfigurationError: one stderr line, exit 2, no traceback."""
    monkeypatch.setitem(cli.COMMANDS, "broken", f"{__name__}:_broken")
    result = CliRunner().invoke(cli.main, ["broken"])
    assert result.exit_code == 2
    assert result.output == (
        "configuration error: MONGODB_PORT must be a port number (1-65535), got 'abc' (second line)\n"
    )
