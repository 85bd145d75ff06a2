"""CohortMonth: per first-order month (cohort) and month, the cohort's customers with a counted
order in that month and how many of them ordered in the month after too.

The cohort table and month-over-month retention read these few hundred rows instead of every
customer-day. `apply_change` keeps them by additive deltas wherever a customer's facts change
(metrics.customers, from the contact's order days as they were before), and
`rebuild_cohort_months` recomputes them from the customer-days, so both end in the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from companion.core import sql
from companion.core.days import month_of
from companion.metrics.periods import month_after, month_before
from companion.metrics.upsert import add_rows
from companion.models import Site
from companion.models.rollups import CohortMonth, CustomerLedger, CustomerOrderDay

KEYS = ("site", "currency", "cohort_month", "month")
Customer = tuple[int, str]  # (contact, currency)


def contribution(
    site_id: int, currency: str, cohort: str, months: set[str], sign: int = 1
) -> list[dict[str, Any]]:
    """One customer's rows: counted in each month they ordered, retained where they ordered the
    month after."""
    return [
        _row(site_id, currency, cohort, m, sign, sign * (month_after(m) in months)) for m in months
    ]


def months_added(
    site_id: int, currency: str, cohort: str, latest: str | None, months: Iterable[str]
) -> list[dict[str, Any]]:
    """The change to one customer's rows when they order in `months` (in order), none before
    `latest`, the last month they ordered in so far (None: none): each new month counts them, and
    the month before it, where they ordered then, now retains them. What `apply_change` writes for
    such a change, without their other months."""
    rows = []
    for month in months:
        if month == latest:
            continue
        if latest is not None and latest == month_before(month):
            rows.append(_row(site_id, currency, cohort, latest, 0, 1))
        rows.append(_row(site_id, currency, cohort, month, 1, 0))
        latest = month
    return rows


def _row(
    site_id: int, currency: str, cohort: str, month: str, customers: int, retained: int
) -> dict[str, Any]:
    return {
        "site": site_id,
        "currency": currency,
        "cohort_month": cohort,
        "month": month,
        "customers": customers,
        "retained": retained,
    }


def apply_change(
    site: Site,
    old: dict[Customer, Any],
    facts: dict[Customer, list[date]],
    stored: dict[Customer, set[str]],
) -> None:
    """Where customers' facts change: take out what they counted (their ledger rows `old`
    and the months of their stored order days), add what `facts` count."""
    rows: list[dict[str, Any]] = []
    for key in set(old) | set(facts):
        currency = key[1]
        before = (old[key].first_month, stored.get(key, set())) if key in old else None
        days = facts.get(key, [])
        after = (month_of(days[0]), {month_of(d) for d in days}) if days else None
        if before == after:
            continue
        if before:
            rows += contribution(site.id, currency, *before, sign=-1)
        if after:
            rows += contribution(site.id, currency, *after)
    add_rows(CohortMonth, KEYS, rows)


def rebuild_cohort_months(site: Site) -> None:
    """From the customer-days: a customer's last day in a month is the one whose next day falls in
    another month, and they were retained when that next day falls in the month after."""
    days, ledger = (
        sql.quote(CustomerOrderDay._meta.table_name),
        sql.quote(CustomerLedger._meta.table_name),
    )
    next_month = sql.month("d.next_day")
    rows = sql.execute(
        f"SELECT d.currency, l.first_month, d.month, {next_month}, COUNT(*) FROM {days} d JOIN "
        f"{ledger} l "
        f"ON l.contact_id = d.contact_id AND l.currency = d.currency WHERE d.site_id = {{p}} "
        f"AND {next_month} <> d.month GROUP BY d.currency, l.first_month, d.month, {next_month}",
        [site.id],
    )
    add_rows(CohortMonth, KEYS, _counts(site.id, rows))


def _counts(site_id: int, rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [
        {
            "site": site_id,
            "currency": currency,
            "cohort_month": cohort,
            "month": month,
            "customers": int(count),
            "retained": int(count) if following == month_after(month) else 0,
        }
        for currency, cohort, month, following, count in rows
    ]


def cohort_months(site: Site, currency: str) -> list[tuple[str, str, int, int]]:
    """(cohort month, month, customers, retained) of every month someone of the cohort ordered
    in."""
    return list(
        CohortMonth.select(
            CohortMonth.cohort_month, CohortMonth.month, CohortMonth.customers, CohortMonth.retained
        )
        .where(
            CohortMonth.site == site.id, CohortMonth.currency == currency, CohortMonth.customers > 0
        )
        .order_by(CohortMonth.cohort_month, CohortMonth.month)
        .tuples()
    )
