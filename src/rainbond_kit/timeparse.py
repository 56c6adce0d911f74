"""Parsing the dates clients send: ``2020-10-1`` style dates or 10/13-digit timestamps."""

from __future__ import annotations

import datetime as dt

from rainbond_kit.errors import BadRequestError

__all__ = ["parse_date"]

_END_OF_DAY = dt.timedelta(days=1, microseconds=-1000)  # 23:59:59.999 (BSON dates are ms)


def parse_date(text: str, *, end: bool = False, name: str = "date") -> dt.datetime:
    """Parse ``text`` into a UTC-aware datetime.

    - 10 digits: seconds since the epoch; 13 digits: milliseconds;
    - ``YYYY-M-D``: midnight UTC of that day, or its last millisecond when ``end`` is true
      (so an end date covers its whole day).

    :raises BadRequestError: anything else, naming ``name``.
    """
    value = text.strip()
    if value.isdigit() and len(value) in (10, 13):
        seconds = int(value) / (1000 if len(value) == 13 else 1)
        try:
            return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            pass
    else:
        try:
            day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            pass
        else:
            return day + _END_OF_DAY if end else day
    raise BadRequestError(
        f"{name} must be a date like 2020-10-1 or a 10/13-digit timestamp, got {text[:40]!r}",
        errors={name: ["invalid date"]},
    )
