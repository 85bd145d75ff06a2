"""First-order cohorts by month: size and the share who ordered again in each later month,
with the repeat-purchase rate and month-over-month retention, all read from roll-ups (CohortMonth
and RollupDaily's new customers and repeaters), never from the customer-days."""

from __future__ import annotations

from typing import Any

from peewee import fn

from companion.metrics.cohort_rollup import cohort_months
from companion.metrics.figures import RATIO_PLACES
from companion.metrics.periods import month_after
from companion.models import Site
from companion.models.rollups import RollupDaily

COHORT_INTERVALS = ("month",)


def cohorts(site: Site, interval: str = "month", currency: str | None = None) -> dict[str, Any]:
    if interval not in COHORT_INTERVALS:
        raise ValueError("interval must be 'month'")
    currency = (currency or site.currency).upper()
    rows = cohort_months(site, currency)
    sizes = {cohort: n for cohort, month, n, _ in rows if month == cohort}
    cohort_rows = [
        {
            "cohort": cohort,
            "size": size,
            "months": [
                {
                    "offset": _offset(cohort, m),
                    "month": m,
                    "customers": n,
                    "share": round(n / size, RATIO_PLACES),
                }
                for c, m, n, _ in rows
                if c == cohort and m > cohort
            ],
        }
        for cohort, size in sorted(sizes.items())
    ]
    customers = sum(sizes.values())
    repeaters = (
        RollupDaily.select(fn.SUM(RollupDaily.new_repeaters))
        .where(RollupDaily.site == site.id, RollupDaily.currency == currency)
        .scalar()
        or 0
    )
    return {
        "interval": interval,
        "currency": currency,
        "cohorts": cohort_rows,
        "customers": customers,
        "repeat_purchase_rate": round(int(repeaters) / customers, RATIO_PLACES)
        if customers
        else None,
        "retention": _monthly_retention(rows),
    }


def _monthly_retention(rows: list[tuple[str, str, int, int]]) -> list[dict[str, Any]]:
    """Of the customers who ordered in a month, the share who ordered in the next one."""
    customers: dict[str, int] = {}
    returned: dict[str, int] = {}
    for _, month, count, retained in rows:
        customers[month] = customers.get(month, 0) + count
        returned[month] = returned.get(month, 0) + retained
    return [
        {
            "month": month_after(m),
            "previous_month_customers": customers[m],
            "retained": returned[m],
            "rate": round(returned[m] / customers[m], RATIO_PLACES),
        }
        for m in sorted(customers)
    ]


def _offset(cohort: str, month: str) -> int:
    return (int(month[:4]) - int(cohort[:4])) * 12 + int(month[5:7]) - int(cohort[5:7])
