"""Dates and timestamps sent by clients, parsed to timezone-aware UTC datetimes.

Accepted forms (``parse_date``):

* a Unix timestamp as digits: up to 10 digits are seconds, 13 digits are milliseconds
  (what JavaScript's ``Date.now()`` sends); the millisecond part is kept;
* a calendar date ``YYYY-M-D`` (``2020-10-1`` or ``2020-10-01``), taken as a UTC day;
* an ISO 8601 date-time (``2020-10-01T08:30:00+08:00``; no offset means UTC).

Anything else raises :class:`~rainbond_kit.errors.BadRequestError`, which renders as a 400
envelope. Query languages (``$start_date``/``$end_date``) and the compat layer's
``handle_date`` both use this module.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from rainbond_kit.data.epoch import from_millis
from rainbond_kit.errors import BadRequestError

__all__ = ["END_OF_DAY", "parse_date", "parse_timestamp", "seconds_between"]

#: Added to a calendar date for ``end=True``: the last millisecond of that day (MongoDB
#: stores milliseconds, so ``$lte`` this value includes every document of the day).
END_OF_DAY = timedelta(days=1, milliseconds=-1)

_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DIGITS = re.compile(r"[0-9]{1,13}")


def parse_timestamp(value: int | str) -> datetime:
    """Turn a Unix timestamp (<= 10 digits: seconds, 13 digits: milliseconds) into UTC.

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
    return datetime.fromtimestamp(number, tz=timezone.utc)


def parse_date(text: str | int, *, end: bool = False) -> datetime:
    """Parse a client-sent date or timestamp to an aware UTC datetime.

    :param end: for a calendar date, return the day's last millisecond (23:59:59.999)
        instead of its midnight; timestamps and date-times are exact and unaffected.
    :raises BadRequestError: the text matches none of the accepted forms.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return parse_timestamp(text)
    if not isinstance(text, str):
        raise BadRequestError(f"invalid date: expected a string, got {type(text).__name__}")
    value = text.strip()
    if value.isascii() and value.isdigit():
        return parse_timestamp(value)
    match = _DATE.fullmatch(value)
    if match:
        try:
            year, month, day_of_month = (int(part) for part in match.groups())
            day = datetime(year, month, day_of_month, tzinfo=timezone.utc)
        except ValueError:
            raise _bad_date(value) from None
        return day + END_OF_DAY if end else day
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise _bad_date(value) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
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
