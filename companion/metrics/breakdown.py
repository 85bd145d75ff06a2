"""Revenue, orders, AOV and refund rate per product, category, channel, payment method, device,
email flow / step / campaign (from the daily roll-ups) and customer segment (live)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from peewee import JOIN, Case, fn

from companion.core.days import day_bounds
from companion.metrics.figures import CENT, RATIO_PLACES
from companion.models import Contact, Order, Product, Site
from companion.models.base import money_from_units
from companion.models.rollups import RollupDimension

ROLLUP_DIMENSIONS = (
    "product",
    "category",
    "channel",
    "payment_method",
    "device",
    "email_flow",
    "email_step",
    "email_campaign",
)
DIMENSIONS = (*ROLLUP_DIMENSIONS, "segment")


def breakdown(
    site: Site, by: str, first: date, last: date, currency: str | None = None, limit: int = 100
) -> dict[str, Any]:
    """Groups ordered by revenue, largest first; at most `limit` of them."""
    if by not in DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}")
    currency = (currency or site.currency).upper()
    rows = (
        _segments(site, currency, first, last)
        if by == "segment"
        else _rolled(site, by, currency, first, last)
    )
    rows.sort(key=lambda r: (-r["revenue"], r["key"]))
    groups = [_group(r) for r in rows[:limit]]
    if by == "product":
        _label_products(site, groups)
    return {
        "by": by,
        "currency": currency,
        "period": {"from": first, "to": last},
        "groups": groups,
        "total_groups": len(rows),
    }


def _rolled(site: Site, by: str, currency: str, first: date, last: date) -> list[dict[str, Any]]:
    d = RollupDimension
    query = (
        d.select(
            d.key,
            fn.SUM(d.orders),
            fn.SUM(d.revenue).coerce(False),
            fn.SUM(d.quantity),
            fn.SUM(d.refunds).coerce(False),
            fn.SUM(d.refunded_orders),
        )
        .where(
            d.site == site.id,
            d.currency == currency,
            d.dimension == by,
            d.day >= first,
            d.day <= last,
        )
        .group_by(d.key)
        .tuples()
    )
    return [
        {
            "key": k,
            "orders": int(o or 0),
            "revenue": money_from_units(r),
            "quantity": int(q or 0),
            "refunds": money_from_units(f),
            "refunded_orders": int(ro or 0),
        }
        for k, o, r, q, f, ro in query
        if o or r or f
    ]  # deltas can leave a group at zero


def _segments(site: Site, currency: str, first: date, last: date) -> list[dict[str, Any]]:
    """By the customer's current RFM segment; orders without a segmented customer are '(none)'."""
    start, end = day_bounds(first, last, site.timezone)
    segment = fn.COALESCE(Contact.rfm_segment, "(none)")
    query = (
        Order.select(
            segment,
            fn.COUNT(Order.id),
            fn.SUM(Order.total).coerce(False),
            fn.SUM(Case(None, [(Order.refunded_total > 0, 1)], 0)),
        )
        .join(Contact, JOIN.LEFT_OUTER, on=(Order.contact == Contact.id))
        .where(
            Order.site == site.id,
            Order.currency == currency,
            Order.is_counted == True,
            Order.deleted_at.is_null(),
            Order.counted_at >= start,
            Order.counted_at < end,
        )
        .group_by(segment)
        .tuples()
    )
    return [
        {
            "key": k,
            "orders": int(o),
            "revenue": money_from_units(r),
            "quantity": None,
            "refunds": None,
            "refunded_orders": int(ro or 0),
        }
        for k, o, r, ro in query
    ]


def _group(row: dict[str, Any]) -> dict[str, Any]:
    orders, revenue = row["orders"], row["revenue"]
    return {
        "key": row["key"],
        "label": row["key"],
        "orders": orders,
        "revenue": _cents(revenue),
        "quantity": row["quantity"],
        "refunds": None if row["refunds"] is None else _cents(row["refunds"]),
        "aov": _cents(revenue / orders) if orders else None,
        "refund_rate": round(row["refunded_orders"] / orders, RATIO_PLACES) if orders else None,
    }


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


def _label_products(site: Site, groups: list[dict[str, Any]]) -> None:
    keys = [g["key"] for g in groups]
    names = (
        dict(
            Product.select(Product.external_id, Product.name)
            .where(Product.site == site.id, Product.external_id.in_(keys))
            .tuples()
        )
        if keys
        else {}
    )
    for group in groups:
        group["label"] = names.get(group["key"]) or group["key"]
