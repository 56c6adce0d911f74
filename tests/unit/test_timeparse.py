"""Client dates and timestamps parse to exact aware UTC datetimes or a 400."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from rainbond_kit.errors import BadRequestError
from rainbond_kit.timeparse import day_range, parse_date, parse_timestamp, seconds_between

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2020-10-1", False, datetime(2020, 10, 1, tzinfo=UTC)),
        ("2020-10-01", False, datetime(2020, 10, 1, tzinfo=UTC)),
        ("2020-10-31", True, datetime(2020, 10, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        ("1601481600", False, datetime(2020, 9, 30, 16, 0, tzinfo=UTC)),
        ("1601481600", True, datetime(2020, 9, 30, 16, 0, 0, 999000, tzinfo=UTC)),
        ("1601481600123", True, datetime(2020, 9, 30, 16, 0, 0, 123000, tzinfo=UTC)),
        ("1601481600123", False, datetime(2020, 9, 30, 16, 0, 0, 123000, tzinfo=UTC)),
        ("601481600", False, datetime(1989, 1, 22, 14, 13, 20, tzinfo=UTC)),
        (1614051008, False, datetime(2021, 2, 23, 3, 30, 8, tzinfo=UTC)),
        ("2020-10-01T08:30:00+08:00", False, datetime(2020, 10, 1, 0, 30, tzinfo=UTC)),
        ("2020-10-01T08:30:00Z", False, datetime(2020, 10, 1, 8, 30, tzinfo=UTC)),
        ("2020-10-01T08:30:00", False, datetime(2020, 10, 1, 8, 30, tzinfo=UTC)),
        (" 2020-10-1 ", False, datetime(2020, 10, 1, tzinfo=UTC)),
    ],
)
def test_accepted_forms(text: str | int, end: bool, expected: datetime) -> None:
    """Dates, 10/13-digit timestamps and ISO date-times give the exact UTC instant."""
    result = parse_date(text, end=end)
    assert result == expected
    assert result.tzinfo is not None
    assert result.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2020-13-01",
        "2020-02-30",
        "16014816001",
        "160148160012",
        "-5",
        "١٢٣",
        True,
        1.5,
        None,
    ],
)
def test_rejected_forms(text: object) -> None:
    """Anything else is a BadRequestError (rendered as a 400 envelope)."""
    with pytest.raises(BadRequestError) as info:
        parse_date(text)  # type: ignore[arg-type]
    assert info.value.code == 400


def test_seconds_between_mixes_units() -> None:
    """Each timestamp keeps its own unit; milliseconds are not truncated."""
    assert seconds_between(1614051008, 1614051008) == 0.0
    assert seconds_between("1614051008000", "1614051009500") == 1.5
    assert seconds_between(1614051008, 1614051010250) == 2.25
    assert seconds_between(1614051010, 1614051008) == -2.0
    with pytest.raises(BadRequestError):
        seconds_between("abc", 1)


def test_parse_timestamp_epoch() -> None:
    """0 is the epoch, in UTC."""
    assert parse_timestamp(0) == datetime(1970, 1, 1, tzinfo=UTC)


SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("zone", "text", "first", "last"),
    [
        (UTC, "2024-03-01", datetime(2024, 3, 1, tzinfo=UTC),
         datetime(2024, 3, 1, 23, 59, 59, 999000, tzinfo=UTC)),
        (SHANGHAI, "2024-3-1", datetime(2024, 2, 29, 16, tzinfo=UTC),
         datetime(2024, 3, 1, 15, 59, 59, 999000, tzinfo=UTC)),
        # 23 hours: clocks go forward at 2:00 on 2021-03-14 in New York
        (NEW_YORK, "2021-03-14", datetime(2021, 3, 14, 5, tzinfo=UTC),
         datetime(2021, 3, 15, 3, 59, 59, 999000, tzinfo=UTC)),
        (SHANGHAI, "9999-12-31", datetime(9999, 12, 30, 16, tzinfo=UTC),
         datetime(9999, 12, 31, 15, 59, 59, 999000, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_calendar_days_follow_the_zone(
    zone: timezone, text: str, first: datetime, last: datetime
) -> None:
    """A calendar date is midnight to midnight in the zone, as exact UTC milliseconds."""
    assert day_range(text, zone) == (first, last)
    assert parse_date(text, zone=zone) == first
    assert parse_date(text, end=True, zone=zone) == last


def test_zone_applies_to_naive_date_times_only() -> None:
    """A date-time without an offset is read in the zone; offsets and timestamps are exact."""
    assert parse_date("2024-03-01T08:00:00", zone=SHANGHAI) == datetime(2024, 3, 1, tzinfo=UTC)
    assert parse_date("2024-03-01T08:00:00Z", zone=SHANGHAI) == datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert parse_date("1709251200", zone=SHANGHAI) == datetime(2024, 3, 1, tzinfo=UTC)
    assert day_range("1709251200", SHANGHAI) is None
    assert day_range("2024-03-01T00:00:00", SHANGHAI) is None


@pytest.mark.parametrize("text", ["2024-02-30", "0001-01-01"])
def test_days_that_do_not_exist_in_the_zone_are_400(text: str) -> None:
    """No such day, or a day starting before year 1 in UTC: a 400, never an OverflowError."""
    with pytest.raises(BadRequestError):
        day_range(text, SHANGHAI)
