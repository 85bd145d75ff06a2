"""A generated store with a weekday rhythm and three injected incidents, written by bulk INSERTs.

Its daily roll-ups are written too, as ingestion would have kept them (orders at 09:00 UTC and
refunds at 14:00 UTC fall on the same day in the site's zone): `companion rollups rebuild` takes
half a minute on freshly loaded PostgreSQL tables, too slow for a test fixture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from companion.intelligence.writeback import _engine, insert_rows
from companion.models import Contact, Order, OrderItem, Product, Refund
from companion.models.base import MONEY_SCALE
from companion.models.rollups import RollupDaily, RollupDimension

WEEKDAY = np.array([1.0, 0.9, 0.9, 1.0, 1.2, 1.5, 1.3])  # Monday first


@dataclass(frozen=True)
class Incidents:
    first: date  # first day of the store
    days: int = 120
    refund_spike: int = 100  # day index: product p1's refund rate 4 % -> 50 % from here on
    stalled: int = 104  # product p2 stops selling from here on
    revenue_drop: int = 108  # orders halve from here on
    orders_per_day: float = 100.0

    def day(self, index: int) -> date:
        return self.first + timedelta(days=index)


def _stamp(day: date, seconds: int, text: bool) -> Any:
    moment = datetime(day.year, day.month, day.day, 9) + timedelta(seconds=seconds)
    return f"{moment:%Y-%m-%d %H:%M:%S}" if text else moment


def generate(site: Any, plan: Incidents, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    text = _engine() == 0
    weights = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05])
    orders, lines, refunds = [], [], []
    for d in range(plan.days):
        day = plan.day(d)
        mean = (
            plan.orders_per_day * WEEKDAY[day.weekday()] * (0.5 if d >= plan.revenue_drop else 1.0)
        )
        w = weights.copy()
        if d >= plan.stalled:
            w[2] = 0.0
        for k in range(rng.poisson(mean)):
            n = len(orders)
            product = int(rng.choice(8, p=w / w.sum()))
            total = round(float(rng.gamma(4.0, 10.0)) + 5, 2)
            orders.append((d, k, total))
            lines.append((n, product, total))
            share = 0.5 if (product == 1 and d >= plan.refund_spike) else 0.04
            if rng.random() < share:
                refunds.append((n, d, total))
    _write(site, plan, orders, lines, refunds, text)
    _rollups(site, plan, orders, lines, refunds, text)


def _rollups(
    site: Any, plan: Incidents, orders: list[Any], lines: list[Any], refunds: list[Any], text: bool
) -> None:
    daily: dict[int, list[int]] = {}
    per: dict[tuple[int, int], list[int]] = {}
    for n, (d, _, total) in enumerate(orders):
        units = int(total * MONEY_SCALE)
        day_row = daily.setdefault(d, [0, 0, 0])
        day_row[0], day_row[1] = day_row[0] + 1, day_row[1] + units
        product = lines[n][1]
        row = per.setdefault((d, product), [0, 0, 0, 0])
        row[0], row[1], row[2] = row[0] + 1, row[1] + units, row[2] + 1
    for n, d, total in refunds:
        daily.setdefault(d, [0, 0, 0])[2] += int(total * MONEY_SCALE)
        per.setdefault((d, lines[n][1]), [0, 0, 0, 0])[3] += int(total * MONEY_SCALE)
    day = (lambda d: plan.day(d).isoformat()) if text else plan.day
    insert_rows(
        RollupDaily,
        [
            "site",
            "day",
            "currency",
            "orders",
            "revenue",
            "refunds",
            "refunded_orders",
            "placed_refunds",
            "new_customers",
            "new_repeaters",
        ],
        [
            (site.id, day(d), site.currency, o, r, f, 0, 0, 0, 0)
            for d, (o, r, f) in sorted(daily.items())
        ],
    )
    insert_rows(
        RollupDimension,
        [
            "site",
            "day",
            "currency",
            "dimension",
            "key",
            "orders",
            "revenue",
            "quantity",
            "refunds",
            "refunded_orders",
            "placed_refunds",
        ],
        [
            (site.id, day(d), site.currency, "product", f"p{p}", o, r, q, f, 0, 0)
            for (d, p), (o, r, q, f) in sorted(per.items())
        ],
    )


def _write(
    site: Any, plan: Incidents, orders: list[Any], lines: list[Any], refunds: list[Any], text: bool
) -> None:
    insert_rows(
        Contact,
        ["site", "email", "created_at", "updated_at", "orders_count", "total_spent", "refunded"],
        [
            (
                site.id,
                f"buyer{i}@example.com",
                _stamp(plan.first, 0, text),
                _stamp(plan.first, 0, text),
                0,
                0,
                0,
            )
            for i in range(200)
        ],
    )
    contacts = [
        c
        for (c,) in Contact.select(Contact.id)
        .where(Contact.site == site.id)
        .order_by(Contact.id)
        .tuples()
    ]
    rows = []
    for n, (d, k, total) in enumerate(orders):
        at = _stamp(plan.day(d), k * 60, text)
        rows.append(
            (
                site.id,
                "woocommerce",
                f"o{n}",
                "completed",
                site.currency,
                int(total * MONEY_SCALE),
                0,
                False,
                contacts[n % len(contacts)],
                at,
                at,
                at,
                0,
                True,
                at,
            )
        )
    insert_rows(
        Order,
        [
            "site",
            "source",
            "external_id",
            "status",
            "currency",
            "total",
            "refunded_total",
            "is_renewal",
            "contact",
            "created_at",
            "paid_at",
            "modified_at",
            "snapshot_seq",
            "is_counted",
            "counted_at",
        ],
        rows,
    )
    ids = dict(Order.select(Order.external_id, Order.id).where(Order.site == site.id).tuples())
    insert_rows(
        OrderItem,
        ["order", "site", "product_id", "name", "quantity", "price", "total"],
        [
            (
                ids[f"o{n}"],
                site.id,
                f"p{p}",
                f"Product {p}",
                1,
                int(t * MONEY_SCALE),
                int(t * MONEY_SCALE),
            )
            for n, p, t in lines
        ],
    )
    insert_rows(
        Refund,
        ["site", "source", "external_id", "order_external_id", "order", "amount", "created_at"],
        [
            (
                site.id,
                "woocommerce",
                f"r{n}",
                f"o{n}",
                ids[f"o{n}"],
                int(t * MONEY_SCALE),
                _stamp(plan.day(d), 3600 * 5, text),
            )
            for n, d, t in refunds
        ],
    )
    insert_rows(
        Product,
        [
            "site",
            "source",
            "external_id",
            "name",
            "price",
            "categories",
            "stock_quantity",
            "updated_at",
        ],
        [
            (
                site.id,
                "woocommerce",
                f"p{p}",
                f"Product {p}",
                20 * MONEY_SCALE,
                '["coffee"]',
                500,
                _stamp(plan.first, 0, text),
            )
            for p in range(8)
        ],
    )
