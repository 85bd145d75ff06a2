"""Periods (inclusive local days) and the buckets of a series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

INTERVALS = ("day", "week", "month")


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last


def buckets(period: Period, interval: str) -> list[Period]:
    """Day, ISO week (Monday first) or calendar month buckets, the first and last clipped to the
    period."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}")
    out: list[Period] = []
    start = period.first
    while start <= period.last:
        end = min(_bucket_end(start, interval), period.last)
        out.append(Period(start, end))
        start = end + timedelta(days=1)
    return out


def _bucket_end(day: date, interval: str) -> date:
    if interval == "day":
        return day
    if interval == "week":
        return day + timedelta(days=6 - day.weekday())
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def month_after(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + (number == 12):04d}-{number % 12 + 1:02d}"


def month_before(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - (number == 1):04d}-{(number - 2) % 12 + 1:02d}"
