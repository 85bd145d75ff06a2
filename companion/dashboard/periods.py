"""The date range a page shows: presets, custom dates, the previous period to compare with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PRESETS: dict[str, str] = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "mtd": "This month",
    "last_month": "Last month",
    "365d": "Last 12 months",
    "custom": "Custom",
}
DEFAULT_PRESET = "30d"
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    preset: str
    compare: bool

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        last = self.first - timedelta(days=1)
        return Period(last - timedelta(days=self.days - 1), last, "custom", False)

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    @property
    def interval(self) -> str:
        return "day" if self.days <= 92 else "week" if self.days <= 400 else "month"

    @property
    def label(self) -> str:
        if self.preset != "custom":
            return PRESETS[self.preset]
        return f"{self.first:%d %b %Y} – {self.last:%d %b %Y}"

    def query(self) -> dict[str, str]:
        """The query string that reproduces this period (links, CSV exports)."""
        args = {"range": self.preset, "from": self.first.isoformat(), "to": self.last.isoformat()}
        if not self.compare:
            args["compare"] = "none"
        return args


def today_in(timezone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(timezone)).date()


def preset_period(preset: str, today: date, compare: bool = True) -> Period:
    if preset == "mtd":
        return Period(today.replace(day=1), today, preset, compare)
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last, preset, compare)
    days = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}.get(preset, 30)
    return Period(
        today - timedelta(days=days - 1),
        today,
        preset if preset in PRESETS else DEFAULT_PRESET,
        compare,
    )


def parse_period(args: Mapping[str, str], today: date) -> Period:
    """Read range/from/to/compare from a query string; anything unreadable falls back to a
    preset."""
    compare = args.get("compare", "previous") != "none"
    preset = args.get("range", DEFAULT_PRESET)
    if preset != "custom":
        return preset_period(preset, today, compare)
    try:
        first, last = (
            date.fromisoformat(args.get("from", "")),
            date.fromisoformat(args.get("to", "")),
        )
    except ValueError:
        return preset_period(DEFAULT_PRESET, today, compare)
    first, last = min(first, last), min(max(first, last), today)
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    return Period(first, last, "custom", compare)
