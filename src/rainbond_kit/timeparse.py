"""Dates and timestamps sent by clients, parsed to timezone-aware UTC datetimes.

Accepted forms (``parse_date``):

* a Unix timestamp as digits: up to 10 digits are seconds, 13 digits are milliseconds
  (what JavaScript's ``Date.now()`` sends); the millisecond part is kept; as a range end
  (``end=True``) a timestamp in seconds covers its whole second;
* a calendar date ``YYYY-M-D`` (``2020-10-1`` or ``2020-10-01``): a day in ``zone`` (the
  configured time zone, :mod:`rainbond_kit.zones`; UTC by default);
* an ISO 8601 date-time (``2020-10-01T08:30:00+08:00``; no offset means ``zone``).

Anything else raises :class:`~rainbond_kit.errors.BadRequestError`, which renders as a 400
envelope. Query languages (``$start_date``/``$end_date``) and the compat layer's
``handle_date`` both use this module.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

from rainbond_kit.data.epoch import from_millis
from rainbond_kit.errors import BadRequestError

__all__ = [
    "END_OF_DAY",
    "END_OF_SECOND",
    "day_range",
    "parse_date",
    "parse_timestamp",
    "seconds_between",
]

#: Added to a calendar date for ``end=True``: the last millisecond of that day (MongoDB
#: stores milliseconds, so ``$lte`` this value includes every document of the day).
END_OF_DAY = timedelta(days=1, milliseconds=-1)
#: Added to a timestamp in seconds for ``end=True``: the last millisecond of that second.
END_OF_SECOND = timedelta(milliseconds=999)

_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DIGITS = re.compile(r"[0-9]{1,13}")


def parse_timestamp(value: int | str, *, end: bool = False) -> datetime:
    """Turn a Unix timestamp (<= 10 digits: seconds, 13 digits: milliseconds) into UTC.

    :param end: a timestamp in seconds gives its second's last millisecond (a range ending
        at ``1601481600`` includes ``1601481600.5``); milliseconds are exact either way.

    :raises BadRequestError: not a non-negative integer of 1-10 or 13 digits.
    """
    text = "" if isinstance(value, bool) else str(value).strip()
    if not isinstance(value, int | str) or not _DIGITS.fullmatch(text) or len(text) in (11, 12):
        raise BadRequestError(
            f"invalid timestamp {str(value)[:40]!r}: expected 10 digits (seconds) "
            "or 13 digits (milliseconds)"
        )
    number = int(text)
    if len(text) == 13:
        return from_millis(number)
    moment = datetime.fromtimestamp(number, tz=timezone.utc)
    return moment + END_OF_SECOND if end else moment


def day_range(text: str | int, zone: tzinfo = timezone.utc) -> tuple[datetime, datetime] | None:
    """The first and last millisecond (UTC) of calendar date ``text`` in ``zone``; ``None``
    when ``text`` is not a calendar date.

    A day is midnight to midnight in ``zone``: 23 or 25 hours long across a daylight-saving
    change.

    :raises BadRequestError: ``text`` looks like a date but names no real day (``2020-2-30``).
    """
    if not isinstance(text, str):
        return None
    value = text.strip()
    match = _DATE.fullmatch(value)
    if match is None:
        return None
    try:
        year, month, day_of_month = (int(part) for part in match.groups())
        first = datetime(year, month, day_of_month, tzinfo=zone)
    except ValueError:
        raise _bad_date(value) from None
    last = first.replace(hour=23, minute=59, second=59, microsecond=999_000)  # wall clock
    return _to_utc(first, value), _to_utc(last, value)


def parse_date(text: str | int, *, end: bool = False, zone: tzinfo = timezone.utc) -> datetime:
    """Parse a client-sent date or timestamp to an aware UTC datetime.

    :param end: a range end: a calendar date gives the day's last millisecond (23:59:59.999
        in ``zone``) instead of its midnight, a timestamp in seconds its second's last
        millisecond; date-times are exact and unaffected.
    :param zone: the time zone of calendar dates and of date-times without an offset.
    :raises BadRequestError: the text matches none of the accepted forms.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return parse_timestamp(text, end=end)
    if not isinstance(text, str):
        raise BadRequestError(f"invalid date: expected a string, got {type(text).__name__}")
    value = text.strip()
    if value.isascii() and value.isdigit():
        return parse_timestamp(value, end=end)
    days = day_range(value, zone)
    if days is not None:
        return days[1] if end else days[0]
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise _bad_date(value) from None
    return _to_utc(moment if moment.tzinfo is not None else moment.replace(tzinfo=zone), value)


def _to_utc(moment: datetime, value: str) -> datetime:
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00 lies after datetime.max in UTC
        raise _bad_date(value) from None


def seconds_between(start: int | str, end: int | str) -> float:
    """Seconds from timestamp ``start`` to ``end``; each may be in seconds or milliseconds.

    :raises BadRequestError: either value is not a 10- or 13-digit timestamp.
    """
    return (parse_timestamp(end) - parse_timestamp(start)).total_seconds()


def _bad_date(value: str) -> BadRequestError:
    return BadRequestError(
        f"invalid date {value[:40]!r}: expected YYYY-MM-DD, an ISO 8601 date-time "
        "or a Unix timestamp (10 or 13 digits)"
    )
