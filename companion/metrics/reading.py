"""Reading the roll-ups: per-day Totals over a range, cumulative sums, retention, predictions."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from peewee import SQL, Case, fn

from companion.core.days import local_day, month_of
from companion.core.db import database
from companion.metrics.figures import Totals
from companion.metrics.periods import Period, buckets
from companion.models import Contact, Site
from companion.models.base import money_from_units
from companion.models.rollups import (
    CustomerDayMonth,
    CustomerOrderDay,
    RollupCarts,
    RollupDaily,
    RollupDimension,
    RollupSessions,
)

CLV_GATE_CUSTOMERS = 500
CLV_GATE_DAYS = 180
DAILY_SUMS = (
    "orders",
    "revenue",
    "refunds",
    "refunded_orders",
    "placed_refunds",
    "new_customers",
    "new_repeaters",
)


def daily_totals(site: Site, currency: str, period: Period) -> dict[date, Totals]:
    """One Totals per day of the period that had anything (raw rows: no per-value conversion)."""
    days: dict[date, Totals] = {}
    d = RollupDaily
    for row in _raw(
        d.select(d.day, *[getattr(d, n) for n in DAILY_SUMS]).where(
            d.site == site.id, d.currency == currency, d.day >= period.first, d.day <= period.last
        )
    ):
        days[_date(row[0])] = Totals(**dict(zip(DAILY_SUMS, row[1:], strict=True)))
    s = RollupSessions
    for day, sessions, converted in _raw(
        s.select(s.day, s.sessions, s.converted).where(
            s.site == site.id, s.day >= period.first, s.day <= period.last
        )
    ):
        t = days.setdefault(_date(day), Totals())
        t.sessions, t.converted = sessions, converted
    c = RollupCarts
    for day, abandoned, converted in _raw(
        c.select(c.day, c.abandoned, c.converted).where(
            c.site == site.id, c.day >= period.first, c.day <= period.last
        )
    ):
        t = days.setdefault(_date(day), Totals())
        t.abandoned, t.carts_converted = abandoned, converted
    _email(site, currency, period, days)
    return days


def _raw(query: Any) -> list[tuple[Any, ...]]:
    return list(database.execute(query).fetchall())


def _email(site: Site, currency: str, period: Period, days: dict[date, Totals]) -> None:
    d = RollupDimension
    query = d.select(d.day, d.dimension, d.revenue, d.refunds).where(
        d.site == site.id,
        d.currency == currency,
        d.dimension.in_(("email", "recovered")),
        d.day >= period.first,
        d.day <= period.last,
    )
    for day, dimension, revenue, refunds in _raw(query):
        t = days.setdefault(_date(day), Totals())
        if dimension == "email":
            t.email_revenue, t.email_refunds = (
                t.email_revenue + int(revenue),
                t.email_refunds + int(refunds),
            )
        else:
            t.recovered_revenue += int(revenue)


def cumulative_before(site: Site, currency: str, day: date) -> Totals:
    """Sums of the daily roll-up over every day before `day` (for CLV and repeat rate to date)."""
    row = (
        RollupDaily.select(*[fn.SUM(getattr(RollupDaily, n)).coerce(False) for n in DAILY_SUMS])
        .where(RollupDaily.site == site.id, RollupDaily.currency == currency, RollupDaily.day < day)
        .tuples()
        .first()
    )
    return Totals(**dict(zip(DAILY_SUMS, row or (), strict=False)))


def connected_on(site: Site) -> date:
    """The site-local day the site was added: page views cannot have come before it."""
    return local_day(site.created_at, site.timezone)


def has_page_views(site: Site) -> bool:
    return (
        RollupSessions.select(RollupSessions.id)
        .where(RollupSessions.site == site.id, RollupSessions.sessions > 0)
        .exists()
    )


def retention(site: Site, currency: str, period: Period) -> tuple[int, int]:
    """(customers who ordered in the previous period, how many of them ordered in this one).

    A customer's last order day in the previous period is the row whose next order day is on or
    after this period's first day; they came back when that next day is within this period. The
    previous period's whole months are counted from CustomerDayMonth (a year: about 4,000 rows at
    a million orders), only the days at its edges from the customer-days (240,000 for a year).
    """
    before = period.previous()
    months = [b for b in buckets(before, "month") if _whole_month(b)]
    if not months:
        return _retention_days(site, currency, before, period)
    edges = [
        Period(before.first, months[0].first - timedelta(days=1)),
        Period(months[-1].last + timedelta(days=1), before.last),
    ]
    counts = [_retention_months(site, currency, months[0].first, months[-1].first, period)]
    counts += [_retention_days(site, currency, e, period) for e in edges if e.first <= e.last]
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def _whole_month(bucket: Period) -> bool:
    return bucket.first.day == 1 and (bucket.last + timedelta(days=1)).day == 1


def _retention_days(site: Site, currency: str, days: Period, period: Period) -> tuple[int, int]:
    """Retention's two counts over the customer-days of `days` (within the previous period)."""
    row = (
        CustomerOrderDay.select(
            fn.COUNT(SQL("*")),  # not COUNT(id): the count is answered from the index alone
            fn.SUM(Case(None, [(CustomerOrderDay.next_day <= period.last, 1)], 0)),
        )
        .where(
            CustomerOrderDay.site == site.id,
            CustomerOrderDay.currency == currency,
            CustomerOrderDay.day >= days.first,
            CustomerOrderDay.day <= days.last,
            CustomerOrderDay.next_day >= period.first,
        )
        .tuples()
        .first()
    )
    return int((row or (0,))[0] or 0), int((row or (0, 0))[1] or 0)


def _retention_months(
    site: Site, currency: str, first: date, last: date, period: Period
) -> tuple[int, int]:
    """The same counts over the customer-days of the whole months from `first` to `last`."""
    m = CustomerDayMonth
    row = (
        m.select(
            fn.SUM(m.customers),
            fn.SUM(Case(None, [(m.next_day <= period.last, m.customers)], 0)),
        )
        .where(
            m.site == site.id,
            m.currency == currency,
            m.month >= month_of(first),
            m.month <= month_of(last),
            m.next_day >= period.first,
        )
        .tuples()
        .first()
    )
    return int((row or (0,))[0] or 0), int((row or (0, 0))[1] or 0)


def predicted_clv(
    site: Site, currency: str, cumulative: Totals, last: date
) -> tuple[Decimal | None, str | None]:
    """Mean predicted 365-day CLV of customers, behind the data gate of DESIGN 4."""
    if currency != site.currency:
        return None, f"Predictions are made in the site currency ({site.currency})."
    if cumulative.new_customers < CLV_GATE_CUSTOMERS:
        return None, (
            f"Needs at least {CLV_GATE_CUSTOMERS} customers with orders "
            f"(has {cumulative.new_customers})."
        )
    first = (
        RollupDaily.select(fn.MIN(RollupDaily.day))
        .where(
            RollupDaily.site == site.id, RollupDaily.currency == currency, RollupDaily.orders > 0
        )
        .scalar()
    )
    if first is None or (last - _date(first)).days < CLV_GATE_DAYS:
        return None, f"Needs at least {CLV_GATE_DAYS} days of order history."
    mean = _mean_predicted(site.id)
    if mean is None:
        return (
            None,
            "Predictions have not been computed yet (they run with the intelligence refresh).",
        )
    return money_from_units(int(mean)).quantize(Decimal("0.01")), None


PREDICTED_TTL_S = 300.0
_predicted_means: dict[int, tuple[float, Any]] = {}


def _mean_predicted(site_id: int) -> Any:
    """Mean predicted CLV of the site's contacts, remembered for a few minutes: predictions change
    only when the intelligence refresh runs (daily), and the mean reads every contact."""
    now = time.monotonic()
    cached = _predicted_means.get(site_id)
    if cached is None or now - cached[0] > PREDICTED_TTL_S:
        mean = (
            Contact.select(fn.AVG(Contact.predicted_clv_365))
            .where(Contact.site == site_id, Contact.predicted_clv_365.is_null(False))
            .scalar()
        )
        cached = _predicted_means[site_id] = (now, mean)
    return cached[1]


def forget_predictions(site_id: int) -> None:
    """Drop the remembered mean (the intelligence refresh calls this after writing predictions)."""
    _predicted_means.pop(site_id, None)


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def next_day(day: date) -> date:
    return day + timedelta(days=1)
