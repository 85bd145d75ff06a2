"""Local days of a site's time zone: which day a moment belongs to, and a day's UTC bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

NO_NEXT_DAY = date(9999, 12, 31)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(moment: datetime, tz: str) -> date:
    """The site-local calendar day of a naive UTC moment."""
    return moment.replace(tzinfo=UTC).astimezone(zone(tz)).date()


def day_start(day: date, tz: str) -> datetime:
    """The naive UTC moment the local day begins (DST days are 23 or 25 hours long)."""
    return datetime.combine(day, time(0), tzinfo=zone(tz)).astimezone(UTC).replace(tzinfo=None)


def day_bounds(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    """UTC [start, end) of the local days first..last inclusive."""
    return day_start(first, tz), day_start(last + timedelta(days=1), tz)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def offset_changes(tz: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offset (seconds) from start, and each change until end: [(since, offset)].

    SQL groups by local day as DATE(moment + offset), the offset picked by a CASE over these
    changes, which is plain SQL on every engine and needs no time zone tables.
    """
    changes = [(start, offset_at(start, tz))]
    moment = start
    while moment < end:
        following = min(moment + timedelta(days=7), end)
        if offset_at(following, tz) != changes[-1][1]:
            change = _first_change(tz, moment, following, changes[-1][1])
            changes.append((change, offset_at(change, tz)))
            moment = change
        else:
            moment = following
    return changes


def offset_at(moment: datetime, tz: str) -> int:
    offset: Any = moment.replace(tzinfo=UTC).astimezone(zone(tz)).utcoffset()
    return int(offset.total_seconds())


def _first_change(tz: str, low: datetime, high: datetime, offset: int) -> datetime:
    """The first second in (low, high] whose offset differs (binary search)."""
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if offset_at(middle, tz) == offset:
            low = middle
        else:
            high = middle
    return high
