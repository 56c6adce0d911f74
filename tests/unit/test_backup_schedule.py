"""The cron schedule from DAY..SECOND, and the graceful stop of the scheduler."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import datetime, timezone

import pytest
from apscheduler.triggers.cron import CronTrigger

from rainbond_kit.backup.schedule import build_trigger, run_scheduled
from rainbond_kit.errors import ConfigurationError


def _fields(trigger: CronTrigger) -> dict[str, str]:
    return {field.name: str(field) for field in trigger.fields}


def test_seed_variables_map_to_cron_fields() -> None:
    """DAY_OF_WEEK/HOUR/MINUTE set the matching cron fields; finer fields default to 0."""
    trigger = build_trigger({"DAY_OF_WEEK": "mon-fri", "HOUR": "2", "MINUTE": "30"})
    fields = _fields(trigger)
    assert (fields["day_of_week"], fields["hour"], fields["minute"], fields["second"]) == (
        "mon-fri",
        "2",
        "30",
        "0",
    )
    start = datetime(2024, 5, 4, tzinfo=timezone.utc)  # a Saturday
    assert trigger.get_next_fire_time(None, start) == datetime(
        2024, 5, 6, 2, 30, tzinfo=timezone.utc
    )


def test_default_is_daily_at_three_utc() -> None:
    """With no schedule variable the backup runs every day at 03:00 UTC."""
    trigger = build_trigger({})
    start = datetime(2024, 5, 4, 4, 0, tzinfo=timezone.utc)
    assert trigger.get_next_fire_time(None, start) == datetime(
        2024, 5, 5, 3, 0, tzinfo=timezone.utc
    )


@pytest.mark.parametrize(
    ("env", "start"),
    [
        ({"HOUR": "25"}, "HOUR='25' is not a valid hour expression"),
        ({"DAY_OF_WEEK": "funday"}, "DAY_OF_WEEK='funday' is not a valid day of week expression"),
        ({"SECOND": "*/x"}, "SECOND='*/x' is not a valid second expression"),
        ({"DAY": "32"}, "DAY='32' is not a valid day expression"),
        ({"TZ": "Mars/Olympus"}, "TZ is not a known time zone: 'Mars/Olympus'"),
    ],
)
def test_bad_schedule_values_name_the_variable(env: dict[str, str], start: str) -> None:
    """An invalid cron value is a ConfigurationError starting with the variable's name."""
    with pytest.raises(ConfigurationError) as info:
        build_trigger(env)
    assert str(info.value).startswith(start)
    assert "\n" not in str(info.value)


def test_sigterm_lets_the_running_job_finish() -> None:
    """SIGTERM during a run: the run completes, no other run starts, run_scheduled returns."""
    started = threading.Event()
    runs: list[str] = []

    def job() -> None:
        runs.append("start")
        started.set()
        time.sleep(0.5)
        runs.append("end")

    def terminate() -> None:
        assert started.wait(10)
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=terminate)
    killer.start()
    before = signal.getsignal(signal.SIGTERM)
    run_scheduled(job, CronTrigger(second="*", timezone="UTC"))
    killer.join()
    assert runs == ["start", "end"]
    assert signal.getsignal(signal.SIGTERM) is before
