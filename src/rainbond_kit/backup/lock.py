"""One scheduled backup per trigger across replicas: a Redis lock with a fencing token.

Every replica of a component runs the scheduler, so at 03:00 each one fires. Each asks
Redis for the database's lock (``SET <lock> <token> NX PX <ttl>``); the token comes from
``INCR <fence>``, so it only grows. The holder then checks ``<last>``, the trigger time
of the last claimed backup: a replica whose clock is late, arriving after the winner has
finished and released the lock, finds its trigger already taken and skips it too. Keys:

* ``rainbond-kit:backup:<db>:lock`` -- ``<token> <host>:<pid>``, expires after ``ttl``;
  deleted on completion only by its holder (compare-and-delete script);
* ``rainbond-kit:backup:<db>:fence`` -- the fencing counter;
* ``rainbond-kit:backup:<db>:last`` -- the last claimed trigger, epoch milliseconds.

Every command (and the release script) touches one key, so the lock works unchanged on a
Redis Cluster; on Sentinel it follows the master through a failover (a lock taken on a
master that dies before replicating is lost with it: the fence then decides, as above).

The token fences the one step that publishes a backup (renaming it into place): if the
lock expired meanwhile and another replica holds it now, the run discards its copy
(:class:`~rainbond_kit.backup.errors.LockLostError`) instead of publishing a second one.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import redis
from apscheduler.triggers.base import BaseTrigger

from rainbond_kit.backup.errors import BackupError, LockLostError
from rainbond_kit.redis_client import RedisClient

__all__ = ["BackupLock", "Claim", "latest_fire_time", "run_locked"]

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
#: How far back :func:`latest_fire_time` looks for the trigger time of a running job.
_LOOKBACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Claim:
    """The outcome of :meth:`BackupLock.claim`: a token to run with, or why to skip."""

    token: int | None
    reason: str = ""


def latest_fire_time(trigger: BaseTrigger, now: datetime) -> datetime:
    """The trigger time a job started at ``now`` belongs to (the latest one not after ``now``).

    Replicas agree on it even when their clocks differ by less than the schedule's period.
    """
    fire = trigger.get_next_fire_time(None, now - _LOOKBACK)
    latest = now
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return latest


class BackupLock:
    """The backup lock of one database in one Redis."""

    def __init__(self, client: RedisClient, database: str, *, ttl_ms: int) -> None:
        self._redis = client
        self.database = database
        prefix = f"rainbond-kit:backup:{database}:"
        self._lock, self._fence, self._last = (prefix + k for k in ("lock", "fence", "last"))
        self._ttl_ms = ttl_ms
        self._owner = f"{socket.gethostname()}:{os.getpid()}"
        self._release = client.register_script(_RELEASE)

    def _value(self, token: int) -> str:
        return f"{token} {self._owner}"

    def claim(self, fire_time: datetime) -> Claim:
        """Take the lock for the backup triggered at ``fire_time``, or say why not.

        :raises BackupError: Redis cannot be reached.
        """
        token = 0
        try:
            token = int(self._redis.incr(self._fence))
            if not self._redis.set(self._lock, self._value(token), nx=True, px=self._ttl_ms):
                holder = self._redis.get(self._lock)
                who = holder.decode(errors="replace") if isinstance(holder, bytes) else "?"
                return Claim(None, f"another backup holds the lock (token and owner: {who})")
            fire_ms = int(fire_time.timestamp() * 1000)
            last = self._redis.get(self._last)
            if last is not None and int(last) >= fire_ms:
                self.release(token)
                return Claim(None, "another replica already took the backup of this trigger")
            self._redis.set(self._last, fire_ms)
        except redis.RedisError as exc:
            if token:
                self.release(token)  # never leave a lock behind for a whole ttl
            raise BackupError(f"backup lock: cannot use Redis ({exc})") from None
        return Claim(token)

    def check(self, token: int) -> None:
        """Confirm the lock is still ours before publishing the backup.

        :raises LockLostError: it expired and someone else holds it, or nobody does.
        """
        try:
            held = self._redis.get(self._lock)
        except redis.RedisError as exc:
            raise BackupError(f"backup lock: cannot use Redis ({exc})") from None
        current = held.decode(errors="replace") if isinstance(held, bytes) else held
        if current != self._value(token):
            raise LockLostError(
                f"backup lock lost (fencing token {token} is no longer current: the run "
                "outlived BACKUP_LOCK_TTL); this copy was discarded"
            )

    def release(self, token: int) -> bool:
        """Delete the lock if it still carries ``token``; ``False`` if it had moved on."""
        try:
            return bool(self._release(keys=[self._lock], args=[self._value(token)]))
        except redis.RedisError:
            return False  # it expires by itself after the ttl


def run_locked(
    lock: BackupLock,
    fire_time: datetime,
    run: Callable[[Callable[[], None]], object],
    info: Callable[[str], None],
) -> bool:
    """Run ``run(check)`` if this replica wins the trigger at ``fire_time``; log either way.

    ``check`` is :meth:`BackupLock.check` bound to the token: ``run`` calls it right before
    publishing. The lock is released when ``run`` returns or raises. Returns whether it ran.
    """
    when = fire_time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    claim = lock.claim(fire_time)
    if claim.token is None:
        info(f"skipped the backup triggered at {when}: {claim.reason}")
        return False
    token = claim.token
    info(f"backup lock taken for the trigger at {when} (fencing token {token})")
    try:
        run(lambda: lock.check(token))
    finally:
        lock.release(token)
    return True
