"""Revenue, orders, AOV and refund rate per product, category, channel, payment method, device,
email flow / step / campaign (from the daily roll-ups) and customer segment (live)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from peewee import JOIN, Case, fn

from companion.core.days import day_bounds, month_of
from companion.core.db import database
from companion.metrics.figures import CENT, RATIO_PLACES
from companion.models import Contact, Order, Product, Site
from companion.models.base import money_from_units
from companion.models.rollups import RollupDimension, RollupDimensionMonth

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
LABEL_BY_KEY = 100


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
    """Sums per key over the days: whole months from the month roll-up, the rest from the daily
    one (added, or subtracted where a month's days outside the range are fewer)."""
    sums: dict[str, list[int]] = {}
    for sign, query in _pieces(site, by, currency, first, last):
        for key, *values in database.execute(query).fetchall():
            target = sums.setdefault(key, [0, 0, 0, 0, 0])
            for i, value in enumerate(values):
                target[i] += sign * int(value or 0)
    return [
        {
            "key": k,
            "orders": o,
            "revenue": money_from_units(r),
            "quantity": q,
            "refunds": money_from_units(f),
            "refunded_orders": ro,
        }
        for k, (o, r, q, f, ro) in sums.items()
        if o or r or f
    ]  # deltas can leave a group at zero


def _pieces(site: Site, by: str, currency: str, first: date, last: date) -> list[tuple[int, Any]]:
    """(sign, query) whose signed sums are the range's: the fewest daily rows to read."""
    head, tail = first.replace(day=1), _month_end(last)
    if (head.year, head.month) == (last.year, last.month):
        outside = (first - head).days + (tail - last).days
        if outside >= (last - first).days + 1:
            return [(1, _days(site, by, currency, first, last))]
        months = (head, head)
    else:
        head_in = (first - head).days < (_month_end(first) - first).days + 1
        tail_in = (tail - last).days < last.day
        months = (
            head if head_in else _month_end(first) + timedelta(days=1),
            tail if tail_in else last.replace(day=1) - timedelta(days=1),
        )
        pieces = []
        if not head_in:
            pieces.append((1, _days(site, by, currency, first, _month_end(first))))
        if not tail_in:
            pieces.append((1, _days(site, by, currency, last.replace(day=1), last)))
        if months[0] > months[1]:
            return pieces
        return [*pieces, *_with_months(site, by, currency, first, last, months)]
    return _with_months(site, by, currency, first, last, months)


def _with_months(
    site: Site, by: str, currency: str, first: date, last: date, months: tuple[date, date]
) -> list[tuple[int, Any]]:
    """The months from months[0] to months[1] (first days of them), less their days outside."""
    start, end = months[0].replace(day=1), _month_end(months[1])
    m = RollupDimensionMonth
    pieces = [
        (
            1,
            _sums(m, m.key).where(
                m.site == site.id,
                m.currency == currency,
                m.dimension == by,
                m.month >= month_of(start),
                m.month <= month_of(end),
            ),
        )
    ]
    if start < first:
        pieces.append((-1, _days(site, by, currency, start, first - timedelta(days=1))))
    if end > last:
        pieces.append((-1, _days(site, by, currency, last + timedelta(days=1), end)))
    return pieces


def _days(site: Site, by: str, currency: str, first: date, last: date) -> Any:
    d = RollupDimension
    return _sums(d, d.key).where(
        d.site == site.id,
        d.currency == currency,
        d.dimension == by,
        d.day >= first,
        d.day <= last,
    )


def _sums(model: Any, key: Any) -> Any:
    return model.select(
        key,
        fn.SUM(model.orders),
        fn.SUM(model.revenue).coerce(False),
        fn.SUM(model.quantity),
        fn.SUM(model.refunds).coerce(False),
        fn.SUM(model.refunded_orders),
    ).group_by(key)


def _month_end(day: date) -> date:
    after = day.replace(day=28) + timedelta(days=4)
    return after - timedelta(days=after.day)


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
    query = Product.select(Product.external_id, Product.name).where(Product.site == site.id)
    if len(keys) <= LABEL_BY_KEY:
        query = query.where(Product.external_id.in_(keys))
    # more keys: the site's products (a store's catalogue), cheaper than building the IN list
    names = dict(query.tuples()) if keys else {}
    for group in groups:
        group["label"] = names.get(group["key"]) or group["key"]
