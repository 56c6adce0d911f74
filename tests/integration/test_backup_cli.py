"""The backup/restore commands end to end: clean failures, retention, the schedule and SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pymongo
import pytest

from rainbond_kit.backup.layout import list_backups
from rainbond_kit.embedded import free_port
from tests.integration._backup_helpers import invoke, run_script, script, script_env

Client = pymongo.MongoClient[dict[str, Any]]


@pytest.fixture
def env(mongo_uri: str, mongo_client: Client, mongo_db_name: str) -> dict[str, str]:
    """The seed plugin's variables for a small database."""
    mongo_client[mongo_db_name].items.insert_many([{"i": i} for i in range(5)])
    return {"MONGODB_URI": mongo_uri, "MONGODB_DB": mongo_db_name}


UNREACHABLE = "mongodb://127.0.0.1:{port}/"


@pytest.mark.parametrize(
    ("args", "variables", "code", "message"),
    [
        (["backup"], {"HOUR": "25"}, 2, "Error: HOUR='25' is not a valid hour expression: "),
        (
            ["backup"],
            {"DAY_OF_WEEK": "funday"},
            2,
            "Error: DAY_OF_WEEK='funday' is not a valid day of week expression: ",
        ),
        (["backup", "--once"], {"MONGODB_DB": ""}, 2, "Error: MONGODB_DB is not set: "),
        (
            ["backup", "--once"],
            {"MONGODB_URI": UNREACHABLE},
            1,
            "Error: cannot reach MongoDB server mongodb://127.0.0.1:{port}/ (no answer within 0.3 s)",
        ),
        (
            ["restore", "--db", "x", "--from", "."],
            {"MONGODB_URI": UNREACHABLE},
            1,
            "Error: cannot reach MongoDB server mongodb://127.0.0.1:{port}/ (no answer within 0.3 s)",
        ),
        (
            ["backup"],
            {"REDIS_URL": "redis://127.0.0.1:{port}/0"},
            1,
            "Error: cannot reach Redis redis://127.0.0.1:{port}/0 (",
        ),
        (
            ["restore", "--db", "a.b", "--from", "."],
            {},
            2,
            "Error: --db is not a valid database name",
        ),
    ],
)
def test_failures_are_one_line_without_traceback(
    env: dict[str, str],
    args: list[str],
    variables: dict[str, str],
    code: int,
    message: str,
    tmp_path: Path,
) -> None:
    """Bad schedule values, an unset database, an unreachable server or Redis: one 'Error:' line."""
    port = free_port()
    variables = {k: v.format(port=port) for k, v in variables.items()}
    full = {**env, "MONGODB_TIMEOUT_MS": "300", **variables}
    result = invoke([*args, "--out", str(tmp_path)] if args[0] == "backup" else args, full)
    assert result.exit_code == code
    [line] = result.stderr.splitlines()
    assert line.startswith(message.format(port=port))
    assert list(tmp_path.iterdir()) == []


def test_real_script_fails_cleanly(env: dict[str, str], tmp_path: Path) -> None:
    """Through the installed rainbond-kit script: bad HOUR and a dead server print no traceback."""
    bad = run_script(["backup", "--out", str(tmp_path)], {**env, "HOUR": "25"})
    assert bad.returncode == 2
    assert bad.stderr.startswith("Error: HOUR='25' is not a valid hour expression")
    port = free_port()
    dead = run_script(
        ["backup", "--once", "--out", str(tmp_path)],
        {"MONGODB_URI": f"mongodb://127.0.0.1:{port}/", "MONGODB_DB": "x"},
    )
    assert dead.returncode == 1
    assert dead.stderr == (
        f"Error: cannot reach MongoDB server mongodb://127.0.0.1:{port}/ (no answer within 3 s)\n"
    )
    assert "Traceback" not in bad.stderr + dead.stderr


def test_retention_keeps_exactly_n(env: dict[str, str], tmp_path: Path) -> None:
    """Four runs with --keep 2 leave the two newest backups; BACKUP_KEEP does the same."""
    names = []
    for _ in range(4):
        result = invoke(["backup", "--once", "--out", str(tmp_path), "--keep", "2"], env)
        assert result.exit_code == 0, result.output
        names.append(result.stdout.split(":")[0])
    assert [str(p) for p in list_backups(tmp_path, env["MONGODB_DB"])] == names[-2:]
    result = invoke(["backup", "--once", "--out", str(tmp_path)], {**env, "BACKUP_KEEP": "1"})
    assert result.exit_code == 0
    assert [str(p) for p in list_backups(tmp_path, env["MONGODB_DB"])] == [
        result.stdout.split(":")[0]
    ]


def test_scheduled_run_fires_and_sigterm_exits_zero(env: dict[str, str], tmp_path: Path) -> None:
    """SECOND=*/1 in a real process: a backup appears within seconds; SIGTERM ends it with exit 0."""
    proc = subprocess.Popen(
        [*script(), "backup", "--out", str(tmp_path)],
        env=script_env({**env, "SECOND": "*/1"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not list_backups(tmp_path, env["MONGODB_DB"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list_backups(tmp_path, env["MONGODB_DB"]), "no scheduled backup within 20 s"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert f"backup of {env['MONGODB_DB']} scheduled (cron[second='*/1'])" in stderr
    assert stderr.rstrip().endswith("backup scheduler stopped")
    backups = list_backups(tmp_path, env["MONGODB_DB"])
    assert all((b / env["MONGODB_DB"] / "items.bson").stat().st_size > 0 for b in backups)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
