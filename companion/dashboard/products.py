"""The products page: sellers, refund rates, stalled products, pairs, demand and days of stock."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import numpy as np

from companion import metrics
from companion.core.days import day_bounds
from companion.core.db import database
from companion.core.sql import as_date
from companion.dashboard.periods import Period
from companion.dashboard.tables import Table, col
from companion.intelligence.maths.anomalies import stalled_products
from companion.intelligence.maths.basket import bought_together
from companion.intelligence.maths.forecast import days_of_stock, forecast_products
from companion.models import Order, OrderItem, Product, Site
from companion.models.rollups import RollupDimension

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


def stalled(site: Site, ids: list[str], matrix: np.ndarray, today: date) -> Table:
    known = names(site)
    found = stalled_products(matrix) if len(ids) else []
    rows = [
        {
            "product": known.get(ids[s.index], ids[s.index]),
            "since": today - timedelta(days=s.zero_days),
            "zero_days": s.zero_days,
            "daily_rate": s.daily_rate,
        }
        for s in found
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
        rows,
        empty="No product that sold steadily has stopped selling.",
        caption="Sold on at least 10 of 28 days, then no sale for longer than that rate makes "
        "likely.",
    )


def forecast(site: Site, ids: list[str], matrix: np.ndarray) -> Table:
    known = {
        pid: (name, stock)
        for pid, name, stock in Product.select(
            Product.external_id, Product.name, Product.stock_quantity
        )
        .where(Product.site == site.id)
        .tuples()
    }
    keep = [i for i in range(len(ids)) if matrix[i].sum() > 0]
    rows: list[dict[str, Any]] = []
    if keep:
        for i, result in zip(
            keep, forecast_products(matrix[keep], horizon=FORECAST_DAYS), strict=True
        ):
            name, stock = known.get(ids[i], (None, None))
            rows.append(
                {
                    "product": name or ids[i],
                    "forecast": float(result.point.sum()),
                    "stock": stock,
                    "days_of_stock": days_of_stock(stock, result.point)
                    if stock is not None
                    else None,
                    "method": "smoothing" if result.method == "ets" else "same weekday last week",
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
    query = (
        OrderItem.select(OrderItem.order, OrderItem.product_id)
        .join(recent, on=(OrderItem.order == recent.c.id))
        .where(OrderItem.product_id.is_null(False))
    )
    lines: list[tuple[int, str]] = database.execute(query).fetchall()
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
