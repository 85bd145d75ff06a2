"""The products page: sellers, refund rates, stalled products, pairs, demand and days of stock."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import numpy as np

from companion import metrics
from companion.core.days import day_bounds
from companion.core.db import (
    database,
    is_postgres,
    quote,
)
from companion.dashboard.periods import Period
from companion.dashboard.tables import Table, col
from companion.intelligence.maths.basket import bought_together
from companion.intelligence.maths.forecast import days_of_stock
from companion.intelligence.outlook import FORECAST_DAYS, Outlook
from companion.models import Order, OrderItem, Product, Site

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
