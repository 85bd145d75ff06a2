"""The products page: sellers, refund rates, stalled products, pairs, demand and days of stock."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from peewee import fn

from companion import metrics
from companion.core.bulk import insert_rows
from companion.core.days import day_bounds
from companion.core.db import (
    database,
    is_postgres,
    quote,
    retry_deadlocks,
    write_transaction,
)
from companion.core.sql import as_date
from companion.dashboard.periods import Period
from companion.dashboard.tables import Table, col
from companion.intelligence.maths.anomalies import stalled_products
from companion.intelligence.maths.basket import bought_together
from companion.intelligence.maths.forecast import days_of_stock, forecast_products
from companion.models import Order, OrderItem, Product, Site
from companion.models.rollups import ANY_DAY, ProductOutlook, RollupDimension, UnitsChange

HISTORY_DAYS = 56
FORECAST_DAYS = 28
TOP = 15
PAIR_ORDERS = 5_000
UNNAMED = 50  # the most recent orders of the period are plenty for pair statistics


def _counted(site: Site, start: Any, end: Any) -> Any:
    return (
        (Order.site == site.id)
        & (Order.is_counted == True)
        & Order.deleted_at.is_null()
        & (Order.currency == site.currency)
        & (Order.counted_at >= start)
        & (Order.counted_at < end)
    )


def names(site: Site) -> dict[str, str]:
    return {
        pid: name
        for pid, name in Product.select(Product.external_id, Product.name)
        .where(Product.site == site.id)
        .tuples()
        if name
    }


def product_rows(site: Site, period: Period) -> list[dict[str, Any]]:
    """Revenue, units, orders and refund rate per product in the period (from the roll-ups)."""
    groups = metrics.breakdown(site, "product", period.first, period.last, limit=10_000)["groups"]
    unnamed = _item_names(site, [g["key"] for g in groups if g["label"] == g["key"]][:UNNAMED])
    return [
        {
            "product": unnamed.get(g["key"], g["label"]),
            "product_id": g["key"],
            "units": g["quantity"] or 0,
            "revenue": g["revenue"],
            "orders": g["orders"],
            "refund_rate": g["refund_rate"],
            "refunded_orders": round((g["refund_rate"] or 0) * g["orders"]),
        }
        for g in groups
    ]


def _item_names(site: Site, product_ids: list[str]) -> dict[str, str]:
    """Names from order lines for products the store never described (one indexed lookup each)."""
    found = {}
    for pid in product_ids:
        name = (
            OrderItem.select(OrderItem.name)
            .where(
                OrderItem.site == site.id,
                OrderItem.product_id == pid,
                OrderItem.name.is_null(False),
            )
            .limit(1)
            .scalar()
        )
        if name:
            found[pid] = name
    return found


def sellers(rows: list[dict[str, Any]], by: str) -> Table:
    ranked = sorted(rows, key=lambda r: (-r[by], r["product"]))[:TOP]
    title = "Top sellers by revenue" if by == "revenue" else "Top sellers by units"
    return Table(
        f"top_{by}",
        title,
        [
            col("product", "Product"),
            col("units", "Units", "count"),
            col("orders", "Orders", "count"),
            col("revenue", "Revenue", "money"),
        ],
        ranked,
        empty="No product sold in this period.",
    )


def refund_rates(rows: list[dict[str, Any]]) -> Table:
    ranked = sorted(
        (r for r in rows if r["orders"] >= 5),
        key=lambda r: (-(r["refund_rate"] or 0), r["product"]),
    )
    return Table(
        "refund_rates",
        "Refund rate per product",
        [
            col("product", "Product"),
            col("orders", "Orders", "count"),
            col("refunded_orders", "Refunded orders", "count", "refund_rate"),
            col("refund_rate", "Refund rate", "percent"),
        ],
        ranked[:TOP],
        empty="Refund rates show once products have at least five orders in the period.",
        caption="Products with at least five orders in the period, highest refund rate first.",
    )


def daily_units(site: Site, today: date) -> tuple[list[str], np.ndarray]:
    """Units sold per product per local day over the last eight weeks, oldest first (roll-ups).

    One roll-up row per (day, product): about 22,000 rows for 400 products, read as plain
    tuples (no model rows, each distinct day converted once)."""
    first = today - timedelta(days=HISTORY_DAYS)
    d = RollupDimension
    query = d.select(d.day, d.key, d.quantity).where(
        d.site == site.id,
        d.currency == site.currency,
        d.dimension == "product",
        d.day >= first,
        d.day < today,
    )
    offsets: dict[Any, int] = {}
    per: dict[str, dict[int, int]] = defaultdict(dict)
    for day, key, units in database.execute(query).fetchall():
        offset = offsets.get(day)
        if offset is None:
            offset = offsets[day] = (as_date(day) - first).days
        if units:
            per[key][offset] = int(units)
    ids = sorted(per)
    matrix = np.zeros((len(ids), HISTORY_DAYS))
    for i, pid in enumerate(ids):
        for day, units in per[pid].items():
            matrix[i, day] = max(units, 0)
    return ids, matrix


@dataclass(frozen=True)
class Outlook:
    """A product's forecast and stalled test as of a local day (stock and names are read live)."""

    product_id: str
    method: str
    forecast: float  # units over the next FORECAST_DAYS days
    point: str  # units per forecast day, JSON (parsed only where days of stock are needed)
    zero_days: int | None  # stalled: days without a sale
    daily_rate: float | None  # stalled: units a day before


def outlook(site: Site, today: date) -> list[Outlook]:
    """Each product sold in the eight weeks before `today`, its forecast and whether it stalled.

    Computed once per local day from the product roll-up and stored (ProductOutlook): they read
    complete days only. The stored rows carry the count of unit changes to those days (UnitsChange,
    which the appliers and rebuilds bump) read before the units were; when a late order or a
    rebuild changed one of those days since, the count differs and the outlook is computed again,
    so a stored outlook never shows other numbers than a fresh one."""
    stamp = _units_stamp(site, today)  # before the units: a change in between recomputes later
    o = ProductOutlook
    stored = database.execute(
        o.select(
            o.stamp, o.product_id, o.method, o.forecast, o.point, o.zero_days, o.daily_rate
        ).where(o.site == site.id, o.currency == site.currency, o.day == today)
    ).fetchall()
    if stored and all(row[0] == stamp for row in stored):
        return sorted(
            (Outlook(pid, m, float(f), p, z, r) for _, pid, m, f, p, z, r in stored),
            key=lambda r: r.product_id,
        )
    rows = _computed(*daily_units(site, today))
    _store(site, today, stamp, rows)
    return rows


def _units_stamp(site: Site, today: date) -> int:
    u = UnitsChange
    first = today - timedelta(days=HISTORY_DAYS)
    return int(
        u.select(fn.SUM(u.changes))
        .where(u.site == site.id, ((u.day >= first) & (u.day < today)) | (u.day == ANY_DAY))
        .scalar()
        or 0
    )


def _computed(ids: list[str], matrix: np.ndarray) -> list[Outlook]:
    keep = [i for i in range(len(ids)) if matrix[i].sum() > 0]
    if not keep:
        return []
    stopped = {s.index: s for s in stalled_products(matrix)}
    return [
        Outlook(
            ids[i],
            result.method,
            float(result.point.sum()),
            json.dumps([float(x) for x in result.point]),
            stopped[i].zero_days if i in stopped else None,
            stopped[i].daily_rate if i in stopped else None,
        )
        for i, result in zip(
            keep, forecast_products(matrix[keep], horizon=FORECAST_DAYS), strict=True
        )
    ]


def _store(site: Site, today: date, stamp: int, rows: list[Outlook]) -> None:
    """Replace the site's stored outlook with this day's (two views computing it at once store
    the same rows: the second one's are ignored)."""
    o = ProductOutlook

    def write() -> None:
        with write_transaction():
            o.delete().where(o.site == site.id, o.currency == site.currency).execute()
            insert_rows(  # plain bulk statements: peewee's insert_many spent 45-100 ms on 400 rows
                o,
                [
                    {
                        "site": site.id,
                        "currency": site.currency,
                        "day": today,
                        "stamp": stamp,
                        **asdict(r),
                    }
                    for r in rows
                ],
                ignore_conflicts=True,
            )

    if rows:
        retry_deadlocks(write)


def stalled(site: Site, rows: list[Outlook], today: date) -> Table:
    known = names(site)
    found = [
        {
            "product": known.get(r.product_id, r.product_id),
            "since": today - timedelta(days=r.zero_days),
            "zero_days": r.zero_days,
            "daily_rate": r.daily_rate,
        }
        for r in rows
        if r.zero_days is not None
    ]
    return Table(
        "stalled",
        "Stalled products",
        [
            col("product", "Product"),
            col("since", "No sale since", "date"),
            col("zero_days", "Days without a sale", "count"),
            col("daily_rate", "Units a day before", "ratio"),
        ],
        found,
        empty="No product that sold steadily has stopped selling.",
        caption="Sold on at least 10 of 28 days, then no sale for longer than that rate makes "
        "likely.",
    )


def forecast(site: Site, outlooks: list[Outlook]) -> Table:
    known = {
        pid: (name, stock)
        for pid, name, stock in Product.select(
            Product.external_id, Product.name, Product.stock_quantity
        )
        .where(Product.site == site.id)
        .tuples()
    }
    rows: list[dict[str, Any]] = []
    for r in outlooks:
        name, stock = known.get(r.product_id, (None, None))
        rows.append(
            {
                "product": name or r.product_id,
                "forecast": r.forecast,
                "stock": stock,
                "days_of_stock": _days_of_stock(stock, r.point),
                "method": "smoothing" if r.method == "ets" else "same weekday last week",
            }
        )
    rows.sort(
        key=lambda r: (r["days_of_stock"] is None, r["days_of_stock"] or 0.0, -float(r["forecast"]))
    )
    return Table(
        "forecast",
        "Demand forecast and days of stock",
        [
            col("product", "Product"),
            col("forecast", f"Next {FORECAST_DAYS} days (units)", "ratio"),
            col("stock", "In stock", "count"),
            col("days_of_stock", "Days of stock", "ratio"),
            col("method", "Method"),
        ],
        rows[:TOP],
        empty="Forecasts need eight weeks of sales.",
        caption="Soonest to run out first; “–” means the stock lasts beyond the "
        f"{FORECAST_DAYS}-day forecast or is not tracked.",
    )


def _days_of_stock(stock: int | None, point: str) -> float | None:
    if stock is None:
        return None
    if stock <= 0:
        return 0.0  # as days_of_stock answers, without reading the forecast
    return days_of_stock(stock, np.array(json.loads(point)))


def _recent_lines(recent: Any) -> list[tuple[int, str]]:
    """(order id, product id) of each line of the `recent` orders.

    PostgreSQL hash-joined the 5,000 ids to a sequential scan of every line of every site (350,000
    lines at 200,000 orders: 320-430 ms, growing with the table); the LATERAL subquery, kept apart
    by OFFSET 0, makes it one index lookup per order (90-110 ms at load 12, the same rows).
    MariaDB has no LATERAL; it and SQLite look the lines up by order already."""
    if is_postgres():
        inner, params = recent.sql()
        table = quote(OrderItem._meta.table_name)
        return database.execute_sql(
            f"SELECT r.id, l.product_id FROM ({inner}) r CROSS JOIN LATERAL (SELECT i.product_id "
            f"FROM {table} i WHERE i.order_id = r.id AND i.product_id IS NOT NULL OFFSET 0) l",
            params,
        ).fetchall()
    query = (
        OrderItem.select(OrderItem.order, OrderItem.product_id)
        .join(recent, on=(OrderItem.order == recent.c.id))
        .where(OrderItem.product_id.is_null(False))
    )
    return list(database.execute(query).fetchall())


def pairs(site: Site, period: Period) -> Table:
    start, end = day_bounds(period.first, period.last, site.timezone)
    recent = (
        Order.select(Order.id)
        .where(_counted(site, start, end))
        .order_by(Order.counted_at.desc())
        .limit(PAIR_ORDERS)
        .alias("recent")
    )  # a derived table, not IN (...): MariaDB takes no LIMIT there, and 5,000 ids as
    # parameters cost more to build than to read
    lines = _recent_lines(recent)
    known, rows = names(site), []
    if lines:
        ids = sorted({pid for _, pid in lines})
        index = {pid: i for i, pid in enumerate(ids)}
        found = bought_together([o for o, _ in lines], [index[p] for _, p in lines], min_count=3)
        for k in range(min(len(found), TOP)):
            a, b = ids[int(found.product_a[k])], ids[int(found.product_b[k])]
            rows.append(
                {
                    "pair": f"{known.get(a, a)} + {known.get(b, b)}",
                    "orders": int(found.count[k]),
                    "support": float(found.support[k]),
                    "confidence": float(found.confidence_a_to_b[k]),
                    "lift": float(found.lift[k]),
                }
            )
    return Table(
        "pairs",
        "Bought together",
        [
            col("pair", "Products"),
            col("orders", "Orders together", "count"),
            col("support", "Support", "percent"),
            col("confidence", "Confidence", "percent"),
            col("lift", "Lift", "ratio"),
        ],
        rows,
        empty="Pairs show once two products were bought together in at least three orders.",
    )
