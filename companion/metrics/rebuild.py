"""`companion rollups rebuild`: recompute every roll-up of a site from orders and refunds.

Set-based: a few GROUP BY queries per table (INSERT ... SELECT where the result is large), never
one query per order. Grouping by local day is DATE(moment + offset) with the offset taken from
the zone's changes over the data's range, so it works on all three engines without tz tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from peewee import fn

from companion.core import sql
from companion.core.days import days_between, local_day
from companion.core.db import (
    database,
    is_postgres,
    lock_site_rollups,
    retry_deadlocks,
    write_transaction,
)
from companion.metrics import activity_rollups
from companion.metrics.cohort_rollup import rebuild_cohort_months
from companion.metrics.contributions import Contribution, order_keys
from companion.metrics.incremental import write
from companion.metrics.upsert import add_rows
from companion.models import Cart, Order, OrderItem, Refund, Site, Visit
from companion.models.attribution import OrderAttribution
from companion.models.base import money_from_units
from companion.models.rollups import (
    ANY_DAY,
    CohortMonth,
    CustomerDayMonth,
    CustomerLedger,
    CustomerOrderDay,
    RollupCarts,
    RollupDaily,
    RollupDimension,
    RollupDimensionMonth,
    RollupSessions,
    UnitsChange,
)

ROLLUPS = (
    RollupDaily,
    RollupDimension,
    RollupDimensionMonth,
    RollupSessions,
    RollupCarts,
    CustomerOrderDay,
    CustomerLedger,
    CohortMonth,
    CustomerDayMonth,
)
ORDER_DIMENSION_COLUMNS = {  # one scan per group of dimensions
    ("channel", "payment_method", "device"): (
        "o.source_type",
        "o.utm_source",
        "o.payment_method",
        "o.device",
    ),
    ("email", "email_flow", "email_step", "email_campaign", "recovered"): (
        "a.message_uuid",
        "a.flow_key",
        "a.step",
        "a.campaign",
        "a.recovered",
    ),
}


def rebuild_site(site: Site, now: datetime) -> dict[str, float]:
    """Replace the site's roll-ups with ones computed from the raw tables; returns timings.
    Carts idle since before `now` count as abandoned on their day. A rebuild that loses a deadlock
    to a worker applying a batch is run again (it replaces everything, so repeating is harmless)."""
    analyze(Order, OrderItem, Refund, OrderAttribution, Visit, Cart)
    return retry_deadlocks(lambda: _rebuild(site, now))


def analyze(*models: Any) -> None:
    """PostgreSQL plans the rebuild's joins from table statistics. Without them (tables written in
    bulk and not analysed yet: autovacuum off or behind, or roll-up rows this transaction wrote)
    it takes each table for a few rows and joins items to orders with a scan of the site's items
    per order: the item roll-up of 200,000 orders ran over 20 minutes. ANALYZE reads a sample
    (30,000 rows a table), counts this transaction's own rows, and blocks no reads or writes.
    SQLite plans from the schema and InnoDB keeps its own statistics."""
    if is_postgres():
        database.execute_sql("ANALYZE " + ", ".join(sql.quote(m._meta.table_name) for m in models))


def _rebuild(site: Site, now: datetime) -> dict[str, float]:
    timings: dict[str, float] = {}
    with write_transaction():
        lock_site_rollups(site.id, exclusive=True)
        if is_postgres():  # the GROUP BYs of a big store sort in memory instead of on disk
            database.execute_sql("SET LOCAL work_mem = '512MB'")
        for model in ROLLUPS:
            model.delete().where(model.site == site.id).execute()
        context = _Context(site)
        for name, step in STEPS:
            began = time.perf_counter()
            step(context)
            timings[name] = round(time.perf_counter() - began, 3)
        began = time.perf_counter()
        _activity(site, now)
        timings["sessions and carts"] = round(time.perf_counter() - began, 3)
        add_rows(UnitsChange, ("site", "day"), [{"site": site.id, "day": ANY_DAY, "changes": 1}])
        # any day's units may have changed: every stored product outlook is out of date
    return timings


class _Context:
    """Names, the local-day SQL of the site's zone, and the refunds-per-order subquery."""

    def __init__(self, site: Site) -> None:
        self.site = site
        start, end = _time_range(site.id)
        self.day = lambda column: sql.local_day(column, site.timezone, start, end)
        self.order, self.item = (
            sql.quote(Order._meta.table_name),
            sql.quote(OrderItem._meta.table_name),
        )
        self.refund, self.attribution = (
            sql.quote(Refund._meta.table_name),
            sql.quote(OrderAttribution._meta.table_name),
        )
        self.refunds_per_order = (
            f"(SELECT order_id, COUNT(*) AS n, SUM(amount) AS amount FROM {self.refund} "
            "WHERE site_id = {p} AND order_id IS NOT NULL GROUP BY order_id)"
        )
        self.counted = "o.site_id = {p} AND o.is_counted = {p} AND o.deleted_at IS NULL"

    def params(self, count: int) -> list[Any]:
        """site id, then (site id, True) per counted filter: the order the fragments use."""
        return [self.site.id] + [self.site.id, True] * count


def _time_range(site_id: int) -> tuple[datetime, datetime]:
    low = [
        Order.select(fn.MIN(Order.counted_at)).where(Order.site == site_id).scalar(),
        Refund.select(fn.MIN(Refund.created_at)).where(Refund.site == site_id).scalar(),
    ]
    high = [
        Order.select(fn.MAX(Order.counted_at)).where(Order.site == site_id).scalar(),
        Refund.select(fn.MAX(Refund.created_at)).where(Refund.site == site_id).scalar(),
    ]
    known_low, known_high = [v for v in low if v], [v for v in high if v]
    start = min(known_low) if known_low else datetime(2000, 1, 1)
    end = max(known_high) if known_high else start
    return start - timedelta(days=2), end + timedelta(days=2)


def _daily(c: _Context) -> None:
    placed = (
        f"SELECT {c.day('o.counted_at')} AS day, o.currency AS currency, COUNT(*) AS orders, "
        "SUM(o.total) AS revenue, 0 AS refunds, SUM(CASE WHEN r.n IS NULL THEN 0 ELSE 1 END) AS "
        "refunded_orders, "
        f"SUM(COALESCE(r.amount, 0)) AS placed_refunds FROM {c.order} o "
        f"LEFT JOIN {c.refunds_per_order} r ON r.order_id = o.id WHERE {c.counted} GROUP BY 1, 2"
    )
    made = (
        f"SELECT {c.day('f.created_at')} AS day, o.currency AS currency, 0, 0, SUM(f.amount), 0, 0 "
        f"FROM {c.refund} f JOIN {c.order} o ON o.id = f.order_id WHERE {c.counted} GROUP BY 1, 2"
    )
    table = sql.quote(RollupDaily._meta.table_name)
    sql.execute(
        f"INSERT INTO {table} (site_id, day, currency, orders, revenue, refunds, refunded_orders, "
        "placed_refunds, "
        f"new_customers, new_repeaters) SELECT {{p}}, day, currency, SUM(orders), SUM(revenue), "
        "SUM(refunds), "
        f"SUM(refunded_orders), SUM(placed_refunds), 0, 0 FROM ({placed} UNION ALL {made}) u GROUP "
        "BY day, currency",
        [c.site.id, *c.params(1), c.site.id, True],
    )


def _customers(c: _Context) -> None:
    """One pass over orders for the customer-days; the ledger follows from them."""
    days = (
        f"SELECT o.contact_id AS contact_id, o.currency AS currency, {c.day('o.counted_at')} AS "
        "day, "
        f"COUNT(*) AS orders FROM {c.order} o WHERE {c.counted} AND o.contact_id IS NOT NULL GROUP "
        "BY 1, 2, 3"
    )
    table = sql.quote(CustomerOrderDay._meta.table_name)
    sql.execute(
        f"INSERT INTO {table} (site_id, contact_id, currency, day, month, orders, next_day) SELECT "
        f"{{p}}, contact_id, "
        f"currency, day, {sql.month('day')}, orders, COALESCE(LEAD(day) OVER (PARTITION BY "
        "contact_id, currency "
        f"ORDER BY day), '9999-12-31') FROM ({days}) d",
        [c.site.id, c.site.id, True],
    )
    analyze(CustomerOrderDay)  # the ledger below joins the customer-days to themselves
    ledger = sql.quote(CustomerLedger._meta.table_name)
    sql.execute(
        f"INSERT INTO {ledger} (site_id, contact_id, currency, first_day, first_month, second_day) "
        f"SELECT {{p}}, d.contact_id, d.currency, d.day, d.month, CASE WHEN d.orders > 1 THEN "
        "d.day "
        f"WHEN d.next_day < '9999-12-31' THEN d.next_day END FROM {table} d JOIN (SELECT "
        "contact_id, currency, "
        f"MIN(day) AS first FROM {table} WHERE site_id = {{p}} GROUP BY contact_id, currency) m "
        "ON m.contact_id = d.contact_id AND m.currency = d.currency AND m.first = d.day WHERE "
        f"d.site_id = {{p}}",
        [c.site.id, c.site.id, c.site.id],
    )
    analyze(CustomerLedger)
    _customer_counts(c.site.id)


def _cohorts(c: _Context) -> None:
    rebuild_cohort_months(c.site)


def fill_customer_day_months(site: Site) -> None:
    """CustomerDayMonth from the site's customer-days (replaced; migration 39 fills an existing
    store's with this too)."""
    CustomerDayMonth.delete().where(CustomerDayMonth.site == site.id).execute()
    days = sql.quote(CustomerOrderDay._meta.table_name)
    sql.execute(
        f"INSERT INTO {sql.quote(CustomerDayMonth._meta.table_name)} (site_id, currency, month, "
        f"next_day, customers) SELECT site_id, currency, month, next_day, COUNT(*) FROM {days} "
        "WHERE site_id = {p} GROUP BY site_id, currency, month, next_day",
        [site.id],
    )


def _day_months(c: _Context) -> None:
    fill_customer_day_months(c.site)


def _customer_counts(site_id: int) -> None:
    rows = []
    for column, field in (
        ("new_customers", CustomerLedger.first_day),
        ("new_repeaters", CustomerLedger.second_day),
    ):
        query = (
            CustomerLedger.select(field, CustomerLedger.currency, fn.COUNT(CustomerLedger.id))
            .where(CustomerLedger.site == site_id, field.is_null(False))
            .group_by(field, CustomerLedger.currency)
            .tuples()
        )
        rows += [
            {"site": site_id, "day": sql.as_date(d), "currency": cur, column: n}
            for d, cur, n in query
        ]
    add_rows(RollupDaily, ("site", "day", "currency"), rows)


def _order_dimensions(c: _Context) -> None:
    total: Contribution = {}
    joins = (
        f"LEFT JOIN {c.refunds_per_order} r ON r.order_id = o.id "
        f"LEFT JOIN {c.attribution} a ON a.order_id = o.id"
    )
    for dimensions, columns in ORDER_DIMENSION_COLUMNS.items():
        cols = ", ".join(columns)
        placed = sql.execute(
            f"SELECT {c.day('o.counted_at')}, o.currency, {cols}, COUNT(*), SUM(o.total), "
            "SUM(CASE WHEN r.n IS NULL THEN 0 ELSE 1 END), SUM(COALESCE(r.amount, 0)) FROM "
            f"{c.order} o {joins} "
            f"WHERE {c.counted} GROUP BY 1, 2, {cols}",
            c.params(1),
        )
        made = sql.execute(
            f"SELECT {c.day('f.created_at')}, o.currency, {cols}, SUM(f.amount) FROM {c.refund} f "
            f"JOIN {c.order} o ON o.id = f.order_id LEFT JOIN {c.attribution} a ON a.order_id = "
            "o.id "
            f"WHERE {c.counted} GROUP BY 1, 2, {cols}",
            [c.site.id, True],
        )
        _collect(
            total,
            dimensions,
            columns,
            placed,
            ("orders", "revenue", "refunded_orders", "placed_refunds"),
        )
        _collect(total, dimensions, columns, made, ("refunds",))
    write(c.site.id, total)


def _collect(
    total: Contribution,
    dimensions: tuple[str, ...],
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    names: tuple[str, ...],
) -> None:
    width = len(columns)
    for row in rows:
        raw = dict(zip((col.split(".")[1] for col in columns), row[2 : 2 + width], strict=True))
        keys = order_keys(raw, raw if "email" in dimensions else None)
        values = {
            n: (money_from_units(v) if n in _MONEY else int(v or 0))
            for n, v in zip(names, row[2 + width :], strict=True)
        }
        for dim, key in keys.items():
            if dim in dimensions:
                target = total.setdefault(("dim", sql.as_date(row[0]), row[1], dim, key), {})
                for n, v in values.items():
                    target[n] = target.get(n, 0) + v


_MONEY = {"revenue", "refunds", "placed_refunds"}


def _item_dimensions(c: _Context) -> None:
    """One GROUP BY per dimension over items joined to their counted orders (a sort, then distinct
    orders per group: cheaper than summing per order first)."""
    table = sql.quote(RollupDimension._meta.table_name)
    orders = (
        f"SELECT o.id AS id, o.currency AS currency, {c.day('o.counted_at')} AS day, "
        f"CASE WHEN r.n IS NULL THEN 0 ELSE 1 END AS refunded FROM {c.order} o "
        f"LEFT JOIN {c.refunds_per_order} r ON r.order_id = o.id WHERE {c.counted}"
    )
    product = ("COALESCE(NULLIF(i.product_id, ''), '(none)')", "", [])
    category = ("lc.value", sql.categories_join(c.item), [c.site.id])
    for dimension, (group, join, params) in (("product", product), ("category", category)):
        sql.execute(
            f"INSERT INTO {table} (site_id, day, currency, dimension, {sql.quote('key')}, orders, "
            "revenue, "
            f"quantity, refunds, refunded_orders, placed_refunds) SELECT {{p}}, o.day, o.currency, "
            f"'{dimension}', "
            f"{group}, COUNT(DISTINCT o.id), SUM(i.total), SUM(i.quantity), 0, "
            f"COUNT(DISTINCT CASE WHEN o.refunded = 1 THEN o.id END), 0 FROM {c.item} i {join}"
            f"JOIN ({orders}) o ON o.id = i.order_id WHERE i.site_id = {{p}} GROUP BY 2, 3, 5",
            [c.site.id, *params, *c.params(1), c.site.id],
        )


def fill_dimension_months(site: Site) -> None:
    """The month roll-up from the daily one (written by the steps before, which wrote some month
    rows already: replaced; a migration fills an existing store's with this too)."""
    RollupDimensionMonth.delete().where(RollupDimensionMonth.site == site.id).execute()
    columns = "orders, revenue, quantity, refunds, refunded_orders, placed_refunds"
    sums = ", ".join(f"SUM({c})" for c in columns.split(", "))
    key = sql.quote("key")
    sql.execute(
        f"INSERT INTO {sql.quote(RollupDimensionMonth._meta.table_name)} (site_id, month, "
        f"currency, dimension, {key}, {columns}) SELECT site_id, {sql.month('day')}, currency, "
        f"dimension, {key}, {sums} FROM {sql.quote(RollupDimension._meta.table_name)} "
        f"WHERE site_id = {{p}} GROUP BY site_id, {sql.month('day')}, currency, dimension, {key}",
        [site.id],
    )


def _months(c: _Context) -> None:
    analyze(RollupDimension)
    fill_dimension_months(c.site)


def _activity(site: Site, now: datetime) -> None:
    first = _earliest(site.id)
    if first is None:
        return
    activity_rollups.refresh_sessions(site, _all_days(site, first, now))
    activity_rollups.refresh_carts(site, _all_days(site, first, now), now)


def _earliest(site_id: int) -> datetime | None:
    found = [
        Visit.select(fn.MIN(Visit.started_at)).where(Visit.site == site_id).scalar(),
        Cart.select(fn.MIN(Cart.created_at)).where(Cart.site == site_id).scalar(),
    ]
    known = [f for f in found if f]
    return min(known) if known else None


def _all_days(site: Site, first: datetime, now: datetime) -> list[date]:
    latest = [
        Visit.select(fn.MAX(Visit.started_at)).where(Visit.site == site.id).scalar(),
        Cart.select(fn.MAX(Cart.created_at)).where(Cart.site == site.id).scalar(),
        now,
    ]
    last = max(v for v in latest if v)
    return days_between(local_day(first, site.timezone), local_day(last, site.timezone))


STEPS: list[tuple[str, Callable[[_Context], None]]] = [
    ("daily", _daily),
    ("customers", _customers),
    ("cohorts", _cohorts),
    ("customer-day months", _day_months),
    ("order dimensions", _order_dimensions),
    ("item dimensions", _item_dimensions),
    ("dimension months", _months),
]


def rebuild(now: datetime, site_public_id: str | None = None) -> list[tuple[str, dict[str, float]]]:
    """Rebuild one site (by public id) or every site, as of `now`."""
    sites = (
        Site.select().where(Site.public_id == site_public_id) if site_public_id else Site.select()
    )
    return [(s.public_id, rebuild_site(s, now)) for s in sites]
