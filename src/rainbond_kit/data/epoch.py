"""Epoch milliseconds <-> aware UTC datetimes, exactly (integer arithmetic, no float)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["EPOCH", "from_millis", "to_millis", "utcnow"]

#: The Unix epoch as an aware UTC datetime.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)


def to_millis(moment: datetime) -> int:
    """Integer milliseconds since the Unix epoch; a naive ``moment`` is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - EPOCH) // _MILLISECOND


def from_millis(millis: int) -> datetime:
    """The aware UTC datetime ``millis`` milliseconds after the epoch (exact, any range).

    :raises OverflowError: the result is outside ``datetime``'s range.
    """
    return EPOCH + timedelta(milliseconds=millis)


def utcnow() -> datetime:
    """Now in UTC, truncated to milliseconds (what a BSON date keeps)."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
