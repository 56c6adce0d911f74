"""The backup schedule: APScheduler's cron trigger from ``DAY`` ... ``SECOND``, stopped gracefully.

On SIGTERM or SIGINT a running backup finishes, no new one starts, and
:func:`run_scheduled` returns (the command then exits 0).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from rainbond_kit.errors import ConfigurationError

__all__ = ["DEFAULT_SCHEDULE", "SCHEDULE_VARIABLES", "build_trigger", "run_scheduled"]

#: Environment variable -> :class:`CronTrigger` field (the seed plugin's names).
SCHEDULE_VARIABLES: dict[str, str] = {
    "DAY": "day",
    "DAY_OF_WEEK": "day_of_week",
    "HOUR": "hour",
    "MINUTE": "minute",
    "SECOND": "second",
}
#: When no schedule variable is set: every day at 03:00.
DEFAULT_SCHEDULE: dict[str, str] = {"hour": "3", "minute": "0", "second": "0"}


def _timezone(env: Mapping[str, str]) -> str:
    name = env.get("TZ", "").strip() or "UTC"
    try:
        CronTrigger(timezone=name)
    except Exception:  # zoneinfo/pytz raise unrelated types for an unknown zone
        raise ConfigurationError(f"TZ is not a known time zone: {name!r}") from None
    return name


def build_trigger(env: Mapping[str, str]) -> CronTrigger:
    """A cron trigger from ``DAY``, ``DAY_OF_WEEK``, ``HOUR``, ``MINUTE``, ``SECOND`` and ``TZ``.

    As with APScheduler, fields finer than the finest one given default to their minimum
    (``HOUR=2`` means 02:00:00), coarser ones to ``*``.

    :raises ConfigurationError: a value is not a valid cron expression; the message names it.
    """
    tz = _timezone(env)
    fields: dict[str, str] = {}
    for variable, field in SCHEDULE_VARIABLES.items():
        value = env.get(variable, "").strip()
        if not value:
            continue
        try:
            CronTrigger(timezone=tz, **{field: value})
        except ValueError as exc:
            raise ConfigurationError(
                f"{variable}={value!r} is not a valid {field.replace('_', ' ')} expression: {exc}"
            ) from None
        fields[field] = value
    return CronTrigger(timezone=tz, **(fields or DEFAULT_SCHEDULE))


def run_scheduled(
    job: Callable[[], Any],
    trigger: CronTrigger,
    *,
    on_start: Callable[[BlockingScheduler], None] | None = None,
    stop_signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    """Run ``job`` on ``trigger`` until one of ``stop_signals`` arrives (call from the main thread).

    CPython runs Python signal handlers in the main thread only, and only once it wakes;
    a :class:`BlockingScheduler` sleeps there until the next run, possibly for a day. So
    the signal is taken from a wake-up pipe (:func:`signal.set_wakeup_fd`, written by the
    C-level handler in whatever thread the kernel picked) by a helper thread, which stops
    new runs and shuts the scheduler down waiting for the running job; this function
    returns only after that job has finished.
    """
    scheduler = BlockingScheduler(timezone=trigger.timezone)
    stopping = threading.Event()
    wanted = {int(sig) for sig in stop_signals}

    def guarded() -> None:
        if not stopping.is_set():
            job()

    scheduler.add_job(guarded, trigger, id="backup", max_instances=1, coalesce=True)
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def stop_when_signalled() -> None:
        while (data := os.read(read_fd, 1)) and data[0] not in wanted:
            pass
        stopping.set()
        if scheduler.state != STATE_STOPPED:
            scheduler.pause()
            scheduler.shutdown(wait=True)

    stopper = threading.Thread(target=stop_when_signalled, name="backup-stopper", daemon=True)

    def started(event: SchedulerEvent) -> None:
        stopper.start()
        if on_start is not None:
            on_start(scheduler)

    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
    previous = {sig: signal.signal(sig, _ignore) for sig in stop_signals}
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    try:
        scheduler.start()
    finally:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(write_fd)  # ends the helper's read if no signal came
        if stopper.is_alive():  # the main loop may return before shutdown(wait=True) does
            stopper.join()
        os.close(read_fd)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Python-level handler: the wake-up pipe does the work; this only replaces the default action."""
