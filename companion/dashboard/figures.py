"""Headline cards, revenue series and the funnel, read from the metric roll-ups.

Everything here calls companion.metrics (which reads the daily roll-ups ingestion keeps
current), so a page costs the same for a thousand orders or a million.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from companion import metrics
from companion.dashboard.definitions import HEADLINE
from companion.dashboard.periods import Period
from companion.metrics.figures import Context, Totals, change_percent, value_of
from companion.metrics.periods import Period as MetricsPeriod
from companion.metrics.reading import connected_on, cumulative_before, daily_totals, has_page_views
from companion.models import Cart, Contact, Order, Site, Visit

__all__ = [
    "Totals",
    "funnel",
    "has_data",
    "headline",
    "period_total",
    "revenue_series",
    "sparklines",
    "totals",
]


def headline(
    site: Site, period: Period, days: dict[date, Totals] | None = None
) -> list[dict[str, Any]]:
    """The eight cards: value, previous value, change (a fraction), and a daily sparkline.

    The same algebra as metrics.headline (its value_of over the same roll-ups), limited to the
    cards' metrics, so retention and predicted CLV are not computed for a page that shows neither.
    `days`: the daily totals of at least the period and the previous one, if already read.
    """
    keys = [m.key for m in HEADLINE]
    before = period.previous()
    first = before.first if period.compare else period.first
    if days is None:
        days = totals(site, first, period.last)
    start = cumulative_before(site, site.currency, first)
    has_views = has_page_views(site)
    since = connected_on(site)
    now = _values(keys, days, start, first, period, has_views, since)
    then = _values(keys, days, start, first, before, has_views, since) if period.compare else {}
    sparks = sparklines(site, period, keys, days)
    cards = []
    for metric in HEADLINE:
        value, reason = now[metric.key]
        previous = then[metric.key][0] if then else None
        cards.append(
            {
                "metric": metric,
                "value": value,
                "reason": reason,
                "previous": previous,
                "change": _change(value, previous) if period.compare else None,
                "spark": sparks[metric.key],
            }
        )
    return cards


def _values(
    keys: list[str],
    days: dict[date, Totals],
    start: Totals,
    first: date,
    period: Period,
    has_views: bool,
    since: date,
) -> dict[str, tuple[Any, str | None]]:
    """`start`: the sums of every day before `first`; `days` may hold days before it too."""
    inside = period_total(days, period)
    cumulative = start.add(Totals.sum_of(t for d, t in days.items() if first <= d <= period.last))
    context = Context(
        cumulative=cumulative,
        has_page_views=has_views,
        retention=None,
        predicted=(None, None),
        connected_on=since,
    )
    return {key: value_of(key, inside, context) for key in keys}


def _change(value: Any, previous: Any) -> float | None:
    percent = change_percent(value, previous)
    return None if percent is None else percent / 100


def sparklines(
    site: Site, period: Period, keys: list[str], days: dict[date, Totals] | None = None
) -> dict[str, list[float | None]]:
    """Each metric per day, as metrics.series computes it, from one read of the daily roll-ups
    (`days`, if the caller read them already)."""
    if days is None:
        days = totals(site, period.first, period.last)
    cumulative = cumulative_before(site, site.currency, period.first)
    has_views = has_page_views(site)
    lines: dict[str, list[float | None]] = {key: [] for key in keys}
    for day in period.dates():
        today = days.get(day, Totals())
        cumulative = cumulative.add(today)
        context = Context(
            cumulative=cumulative, has_page_views=has_views, retention=None, predicted=(None, None)
        )
        for key in keys:
            value, _ = value_of(key, today, context)
            lines[key].append(None if value is None else float(value))
    return lines


def totals(site: Site, first: date, last: date) -> dict[date, Totals]:
    return daily_totals(site, site.currency, MetricsPeriod(first, last))


def period_total(days: dict[date, Totals], period: Period) -> Totals:
    return Totals.sum_of(days[day] for day in period.dates() if day in days)


def revenue_series(
    site: Site, period: Period, days: dict[date, Totals] | None = None
) -> dict[str, list[Any]]:
    """Gross, refunds and net per day, week or month (by the period's length)."""

    def points(key: str) -> list[dict[str, Any]]:
        return metrics.series(site, key, period.interval, period.first, period.last, days=days)[
            "points"
        ]

    gross, refunds, net = points("total_revenue"), points("refunds"), points("net_revenue")
    return {
        "labels": [p["from"].isoformat() for p in gross],
        "gross": [float(p["value"] or 0) for p in gross],
        "refunds": [float(p["value"] or 0) for p in refunds],
        "net": [float(p["value"] or 0) for p in net],
    }


def funnel(total: Totals) -> list[dict[str, Any]]:
    carts = total.abandoned + total.carts_converted
    steps = [("Sessions", total.sessions), ("Carts", carts), ("Orders", total.orders)]
    top = steps[0][1] or 1
    return [{"label": label, "count": n, "share": min(n / top, 1.0)} for label, n in steps]


def has_data(site: Site) -> bool:
    """Whether the store has sent anything at all (else the page explains how to connect it)."""
    return any(
        model.select().where(model.site == site.id).exists()
        for model in (Order, Visit, Cart, Contact)
    )
