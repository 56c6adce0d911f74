"""``rainbond-kit indexes [--app module:app] [--check]``: declared indexes as a deployment step.

The app is imported the way gunicorn imports it (``--app``, default the Procfile's
``gunicorn module:attr``; a callable that is not a Flask app is called as a factory), so the
indexes are exactly those its registered resources declare. Without ``--check`` each missing
index is created (``createIndexes``: identical specs are a no-op, a build another replica
started is joined, not restarted), waiting for MongoDB up to ``--timeout`` seconds. With
``--check`` nothing is written: missing and conflicting indexes are listed, and so are sort
fields no index supports (warnings). One line per problem; exit 0 when every declared index
is in place, 1 otherwise, 2 on a configuration error. Usable as a Rainbond init step.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pymongo.errors
from flask import Flask
from pymongo.database import Database

from rainbond_kit.data.index_builder import build_pending
from rainbond_kit.data.indexes import IndexBoard, IndexEntry, StoreDown, supported_sorts
from rainbond_kit.doctor.environment import app_target, procfile_command
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.extension import RainbondKit
from rainbond_kit.extension_state import get_state

__all__ = ["check_lines", "indexes", "load_app"]


@contextlib.contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))


def load_app(target: str | None, folder: Path) -> Flask:
    """The Flask app ``module:attr`` names (default: the Procfile's gunicorn target).

    :raises ConfigurationError: no target, or it does not name a Flask app.
    """
    if target is None:
        target = app_target(procfile_command(folder) or [])[0]
    if not target or ":" not in target:
        raise ConfigurationError(
            "name the app with --app module:app (no Procfile `web: gunicorn module:app` found)"
        )
    module_name, attr = target.split(":", 1)
    with _on_path(folder):
        found: Any = getattr(importlib.import_module(module_name), attr, None)
    if callable(found) and not isinstance(found, Flask):
        found = found()
    if not isinstance(found, Flask):
        raise ConfigurationError(f"--app {target} does not name a Flask app")
    return found


def _existing(database: Database[Any], collection: str) -> dict[str, tuple[tuple[str, Any], ...]]:
    info = database[collection].index_information()
    return {name: tuple(tuple(k) for k in spec["key"]) for name, spec in info.items()}


def check_lines(board: IndexBoard, database: Database[Any]) -> tuple[list[str], list[str]]:
    """``(problems, warnings)``: declared indexes missing or conflicting; unsupported sorts.

    :raises pymongo.errors.PyMongoError: MongoDB cannot be read.
    """
    problems: list[str] = []
    existing: dict[str, dict[str, tuple[tuple[str, Any], ...]]] = {}
    for entry in board.entries():
        found = existing.setdefault(entry.collection, _existing(database, entry.collection))
        keys = found.get(entry.name)
        if keys is None:
            problems.append(f"missing: {entry.describe()}")
        elif keys != entry.keys:
            shown = ", ".join(f"{k} {d}" for k, d in keys)
            problems.append(
                f"conflict: {entry.describe()}: an index of that name has keys ({shown})"
            )
    warnings: list[str] = []
    for collection, (sortable, stored) in sorted(board.sortable().items()):
        found = existing.setdefault(collection, _existing(database, collection))
        declared = [e.keys for e in board.entries() if e.collection == collection]
        unsupported = sorted(
            sortable - supported_sorts(sortable, stored, [*found.values(), *declared])
        )
        warnings += [
            f"warning: sort by {field} on {collection} has no index starting with it"
            " (sorting scans the collection)"
            for field in unsupported
        ]
    return problems, warnings


def _build(board: IndexBoard, database: Database[Any], timeout: float) -> list[IndexEntry]:
    """Build every pending index, retrying while MongoDB is down (up to ``timeout`` s)."""
    deadline, delay = time.monotonic() + timeout, 0.5
    while True:
        try:
            build_pending(board, database)
        except StoreDown:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
        else:
            return [e for e in board.entries() if e.status != "built"]


@click.command(
    "indexes",
    short_help="Build (or --check) the app's declared MongoDB indexes.",
    help=(
        "Create the indexes the app's resources declare (INDEXES), or with --check only"
        " report missing or conflicting ones and sort fields no index supports. One line"
        " per problem; exit 0 when every declared index is in place, 1 otherwise. Run it as"
        " a Rainbond init step before the app's replicas start."
    ),
)
@click.option(
    "--app",
    "target",
    metavar="MODULE:APP",
    default=None,
    help="The Flask app (default: the Procfile's gunicorn target).",
)
@click.option("--check", is_flag=True, help="Only inspect: create nothing.")
@click.option(
    "--timeout", type=float, default=60.0, show_default=True, help="Seconds to wait for MongoDB."
)
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path(),
    show_default="current directory",
    help="The component's folder.",
)
def indexes(target: str | None, check: bool, timeout: float, directory: Path) -> None:
    app = load_app(target, directory.resolve())
    state = get_state(app)
    board = state.indexes.board
    database = state.container.mongo_db()
    lines: list[str] = []
    logging.getLogger("rainbond_kit.indexes").disabled = True  # the lines below say it once
    try:
        if check:
            lines, warnings = check_lines(board, database)
            lines += warnings
            failed = any(not line.startswith("warning:") for line in lines)
        else:
            lines = [
                f"{e.status}: {e.describe()}: {e.detail}" for e in _build(board, database, timeout)
            ]
            failed = bool(lines)
    except (StoreDown, pymongo.errors.PyMongoError) as exc:
        where = state.settings.mongo.redacted_uri
        lines, failed = [f"mongodb unavailable at {where}: {type(exc).__name__}"], True
    finally:
        RainbondKit.shutdown(app)
    for line in lines:
        click.echo(line)
    total = len(board.entries())
    click.echo(f"{total} declared index(es), {'problems found' if failed else 'all in place'}")
    raise SystemExit(1 if failed else 0)
