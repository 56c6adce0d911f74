"""The backup schedule: APScheduler's cron trigger from ``DAY`` ... ``SECOND``, stopped gracefully.

On SIGTERM or SIGINT a running backup finishes, no new one starts, and
:func:`run_scheduled` returns (the command then exits 0).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
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
    """Run ``job`` on ``trigger`` until one of ``stop_signals`` arrives (main thread only).

    A signal only sets an event; a helper thread then pauses the scheduler (no new run
    starts) and shuts it down waiting for a running job, so the signal handler never takes
    a lock the interrupted main thread might hold.
    """
    scheduler = BlockingScheduler(timezone=trigger.timezone)
    scheduler.add_job(job, trigger, id="backup", max_instances=1, coalesce=True)
    stop = threading.Event()

    def stop_when_asked() -> None:
        stop.wait()
        scheduler.pause()
        scheduler.shutdown(wait=True)

    def started(event: SchedulerEvent) -> None:
        threading.Thread(target=stop_when_asked, name="backup-stopper", daemon=True).start()
        if on_start is not None:
            on_start(scheduler)

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
    previous = {sig: signal.signal(sig, handle) for sig in stop_signals}
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
