"""One scheduled backup per trigger across replicas: the Redis lock, alone and in two real schedulers."""

from __future__ import annotations

import re
import signal
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pymongo
import pytest
import redis
from apscheduler.triggers.cron import CronTrigger

from rainbond_kit.backup.errors import LockLostError
from rainbond_kit.backup.layout import list_backups
from rainbond_kit.backup.lock import BackupLock, latest_fire_time, run_locked
from tests.integration._backup_helpers import script, script_env

Client = pymongo.MongoClient[dict[str, Any]]
T0 = datetime(2026, 5, 1, 3, 0, tzinfo=timezone.utc)
HOUR = 3_600_000


@pytest.fixture
def redis_client(redis_url: str) -> Any:
    """A client of the session's own Redis server."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def make_lock(redis_client: redis.Redis) -> Any:
    """Locks of one fresh database name, as separate replicas would hold them."""
    database = f"db{uuid.uuid4().hex}"
    return lambda: BackupLock(redis_client, database, ttl_ms=HOUR)


def test_one_replica_per_trigger_even_after_release(make_lock: Any) -> None:
    """The first claim wins; a late replica after the release still skips that trigger."""
    first, second, late = make_lock(), make_lock(), make_lock()
    won = first.claim(T0)
    assert won.token is not None
    lost = second.claim(T0)
    assert lost.token is None
    assert lost.reason.startswith(f"another backup holds the lock (token and owner: {won.token} ")
    assert first.release(won.token)
    skipped = late.claim(T0)
    assert skipped == type(skipped)(None, "another replica already took the backup of this trigger")
    nxt = late.claim(T0 + timedelta(days=1))
    assert nxt.token is not None
    assert nxt.token > won.token  # the fencing counter only grows


def test_fencing_token_stops_a_replica_that_lost_the_lock(
    make_lock: Any, redis_client: redis.Redis
) -> None:
    """When the lock expired and another replica holds it, the old holder may not publish."""
    slow, fresh = make_lock(), make_lock()
    old = slow.claim(T0).token
    assert old is not None
    slow.check(old)  # still ours: no error (the control)
    [key] = redis_client.keys(f"rainbond-kit:backup:{slow.database}:lock")
    redis_client.delete(key)  # the ttl ran out
    new = fresh.claim(T0 + timedelta(days=1)).token
    assert new is not None
    with pytest.raises(LockLostError, match=rf"fencing token {old} is no longer current"):
        slow.check(old)
    assert slow.release(old) is False  # does not delete the new holder's lock
    fresh.check(new)


def test_run_locked_releases_on_failure_and_logs_skips(make_lock: Any) -> None:
    """A failing run still releases the lock; a replica arriving later logs that it skipped."""
    lines: list[str] = []
    lock = make_lock()

    def boom(check: Any) -> None:
        check()
        raise RuntimeError("dump failed")

    with pytest.raises(RuntimeError):
        run_locked(lock, T0, boom, lines.append)
    assert lines[0].startswith("backup lock taken for the trigger at 2026-05-01T03:00:00Z")
    other = make_lock()
    token = other.claim(T0 - timedelta(days=1)).token  # free again, but an older trigger
    assert token is None
    assert run_locked(other, T0, boom, lines.append) is False
    assert lines[-1] == (
        "skipped the backup triggered at 2026-05-01T03:00:00Z: "
        "another replica already took the backup of this trigger"
    )


def test_latest_fire_time_is_the_trigger_a_late_start_belongs_to() -> None:
    """A job starting 0.4 s after 03:00:02 on a */2 s schedule belongs to 03:00:02."""
    trigger = CronTrigger(second="*/2", timezone="UTC")
    start = T0 + timedelta(seconds=2, milliseconds=400)
    assert latest_fire_time(trigger, start) == T0 + timedelta(seconds=2)
    daily = CronTrigger(hour="3", minute="0", second="0", timezone="UTC")
    assert latest_fire_time(daily, T0 + timedelta(seconds=1)) == T0


_TAKEN = re.compile(r"backup lock taken for the trigger at (\S+) \(fencing token (\d+)\)")
_SKIPPED = re.compile(r"skipped the backup triggered at (\S+): ")


@pytest.mark.slow
def test_two_schedulers_take_one_backup_per_trigger(
    mongo_uri: str, mongo_client: Client, mongo_db_name: str, redis_url: str, tmp_path: Path
) -> None:
    """Two real `rainbond-kit backup` processes, one Redis: each trigger is backed up once."""
    mongo_client[mongo_db_name].items.insert_many([{"i": i} for i in range(50)])
    env = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": mongo_db_name,
        "REDIS_URL": redis_url,
        "SECOND": "*/2",
    }
    outs = [tmp_path / "replica-a", tmp_path / "replica-b"]
    procs = [
        subprocess.Popen(
            [*script(), "backup", "--out", str(out)],
            env=script_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in outs
    ]
    logs: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while sum(len(list_backups(o, mongo_db_name)) for o in outs) < 3:
            assert time.monotonic() < deadline, "fewer than 3 scheduled backups within 60 s"
            assert all(p.poll() is None for p in procs)
            time.sleep(0.2)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            _, stderr = proc.communicate(timeout=30)
            assert proc.returncode == 0, stderr
            logs.append(stderr)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    taken = [m.groups() for log in logs for m in _TAKEN.finditer(log)]
    skipped = [m.group(1) for log in logs for m in _SKIPPED.finditer(log)]
    triggers = [when for when, _ in taken]
    assert len(triggers) == len(set(triggers)), f"a trigger was backed up twice: {logs}"
    assert set(skipped) <= set(triggers)
    assert skipped, "the replicas never met on one trigger"
    tokens = [int(token) for _, token in sorted(taken)]
    assert tokens == sorted(tokens)
    backups = sum(len(list_backups(out, mongo_db_name)) for out in outs)
    assert backups == len(taken)
    assert all("replicas share the backup lock in Redis redis://" in log for log in logs)
