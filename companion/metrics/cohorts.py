"""First-order cohorts by month: size and the share who ordered again in each later month,
with the repeat-purchase rate and month-over-month retention."""
from __future__ import annotations

from typing import Any

from peewee import fn

from companion.metrics import sql
from companion.metrics.figures import RATIO_PLACES
from companion.metrics.periods import month_after
from companion.models import Site
from companion.models.rollups import CustomerLedger, CustomerOrderDay

COHORT_INTERVALS = ("month",)


def cohorts(site: Site, interval: str = "month", currency: str | None = None) -> dict[str, Any]:
    if interval not in COHORT_INTERVALS:
        raise ValueError("interval must be 'month'")
    currency = (currency or site.currency).upper()
    sizes = dict(CustomerLedger.select(CustomerLedger.first_month, fn.COUNT(CustomerLedger.id)).where(
        CustomerLedger.site == site.id, CustomerLedger.currency == currency).group_by(
        CustomerLedger.first_month).tuples())
    active = _active(site, currency)
    rows = []
    for cohort in sorted(sizes):
        later = sorted(m for (c, m) in active if c == cohort and m > cohort)
        rows.append({"cohort": cohort, "size": sizes[cohort], "months": [
            {"offset": _offset(cohort, m), "month": m, "customers": active[(cohort, m)],
             "share": round(active[(cohort, m)] / sizes[cohort], RATIO_PLACES)} for m in later]})
    customers = sum(sizes.values())
    repeaters = CustomerLedger.select().where(CustomerLedger.site == site.id, CustomerLedger.currency == currency,
                                              CustomerLedger.second_day.is_null(False)).count()
    return {"interval": interval, "currency": currency, "cohorts": rows, "customers": customers,
            "repeat_purchase_rate": round(repeaters / customers, RATIO_PLACES) if customers else None,
            "retention": _monthly_retention(site, currency)}


def _active(site: Site, currency: str) -> dict[tuple[str, str], int]:
    d, ledger = CustomerOrderDay, CustomerLedger
    query = d.select(ledger.first_month, d.month, fn.COUNT(fn.DISTINCT(d.contact))).join(
        ledger, on=((ledger.contact == d.contact) & (ledger.currency == d.currency))).where(
        d.site == site.id, d.currency == currency).group_by(ledger.first_month, d.month).tuples()
    return {(c, m): n for c, m, n in query}


def _monthly_retention(site: Site, currency: str) -> list[dict[str, Any]]:
    """Of the customers who ordered in a month, the share who ordered in the next one."""
    table = sql.quote(CustomerOrderDay._meta.table_name)
    rows = sql.execute(
        f"SELECT month, {sql.month('next_day')} AS next_month, COUNT(*) FROM {table} "
        f"WHERE site_id = {{p}} AND currency = {{p}} AND {sql.month('next_day')} <> month "
        f"GROUP BY month, {sql.month('next_day')}", [site.id, currency])
    customers: dict[str, int] = {}
    returned: dict[str, int] = {}
    for month, next_month, count in rows:
        customers[month] = customers.get(month, 0) + int(count)
        if next_month == month_after(month):
            returned[month] = returned.get(month, 0) + int(count)
    return [{"month": month_after(m), "previous_month_customers": customers[m],
             "retained": returned.get(m, 0), "rate": round(returned.get(m, 0) / customers[m], RATIO_PLACES)}
            for m in sorted(customers)]


def _offset(cohort: str, month: str) -> int:
    return (int(month[:4]) - int(cohort[:4])) * 12 + int(month[5:7]) - int(cohort[5:7])
