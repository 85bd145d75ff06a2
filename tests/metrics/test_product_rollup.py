"""The products page and its exports read the per-product-per-day roll-up (`rollup_dimension`,
dimension `product`): it answers what counting the order lines answers, to the cent, after
random streams of late, cancelled, deleted and refunded orders, an erased customer, a second site
and a second currency, and stays equal to a rebuild."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from companion import metrics
from companion.core.days import local_day
from companion.dashboard import products
from companion.dashboard.periods import Period
from companion.metrics.rebuild import rebuild_site
from companion.models import Order, OrderItem, Refund, Site, utcnow
from companion.privacy import erase_person
from tests.helpers import post_events, run_jobs
from tests.metrics.streams import START, picture, random_stream

FIRST = START.date() - timedelta(days=1)
WINDOWS = [
    (FIRST, FIRST + timedelta(days=60)),
    (FIRST + timedelta(days=2), FIRST + timedelta(days=4)),
    (FIRST + timedelta(days=5), FIRST + timedelta(days=5)),
]


def counted_from_order_lines(site: Site, first: date, last: date, currency: str) -> dict[str, Any]:
    """Per product: orders, units, revenue and refunded orders, by walking every counted order of
    the local days and its lines (what the page would do without the roll-up)."""
    groups: dict[str, dict[str, Any]] = {}
    for order in Order.select().where(
        Order.site == site.id,
        Order.is_counted == True,
        Order.deleted_at.is_null(),
        Order.currency == currency,
    ):
        if not first <= local_day(order.counted_at, site.timezone) <= last:
            continue
        refunded = Refund.select().where(Refund.order == order.id).exists()
        seen: set[str] = set()
        for line in OrderItem.select().where(OrderItem.order == order.id):
            key = str(line.product_id or "(none)")
            g = groups.setdefault(
                key, {"orders": 0, "quantity": 0, "revenue": Decimal(0), "refunded": 0}
            )
            g["quantity"] += line.quantity
            g["revenue"] += Decimal(line.total)
            if key not in seen:
                seen.add(key)
                g["orders"] += 1
                g["refunded"] += refunded
    return groups


def from_rollup(site: Site, first: date, last: date, currency: str) -> dict[str, Any]:
    answer = metrics.breakdown(site, "product", first, last, currency=currency, limit=10_000)
    return {
        g["key"]: {
            "orders": g["orders"],
            "quantity": g["quantity"],
            "revenue": g["revenue"],
            "refunded": round(g["refund_rate"] * g["orders"]),
        }
        for g in answer["groups"]
    }


def assert_exact(site_id: int) -> None:
    site = Site.get_by_id(site_id)
    for first, last in WINDOWS:
        for currency in ("EUR", "USD"):
            counted = counted_from_order_lines(site, first, last, currency)
            assert from_rollup(site, first, last, currency) == {
                k: v for k, v in counted.items() if v["orders"] or v["revenue"]
            }, (first, last, currency)
    counted = counted_from_order_lines(site, *WINDOWS[0], site.currency)
    assert counted, "the stream sold products"
    rows = products.product_rows(site, Period(*WINDOWS[0], "custom", False))
    assert {r["product_id"]: (r["units"], r["revenue"], r["orders"]) for r in rows} == {
        k: (v["quantity"], v["revenue"], v["orders"])
        for k, v in counted.items()
        if v["orders"] or v["revenue"]
    }
    today = FIRST + timedelta(days=products.HISTORY_DAYS // 2)
    ids, matrix = products.daily_units(site, today)
    for day in range(products.HISTORY_DAYS):
        on = today - timedelta(days=products.HISTORY_DAYS - day)
        units = counted_from_order_lines(site, on, on, site.currency)
        assert {pid: matrix[i, day] for i, pid in enumerate(ids) if matrix[i, day]} == {
            k: v["quantity"] for k, v in units.items() if v["quantity"]
        }, on


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_the_product_rollup_equals_counting_order_lines(client, site, other_site, settings, seed):
    events, others = random_stream(seed, orders=40), random_stream(seed + 100, orders=20)
    half = len(events) // 2
    for chunk in range(0, half, 7):
        assert post_events(client, site, events[chunk : min(chunk + 7, half)]).status_code == 202
        if others[chunk : chunk + 7]:
            assert post_events(client, other_site, others[chunk : chunk + 7]).status_code == 202
        run_jobs()
    erase_person(site.site.id, "ann@example.com", settings.secret_key, utcnow())
    for chunk in range(half, len(events), 9):
        assert post_events(client, site, events[chunk : chunk + 9]).status_code == 202
        run_jobs()
    if others[half:]:
        assert post_events(client, other_site, others[half:]).status_code == 202
    run_jobs()
    assert Order.select().where(Order.deleted_at.is_null(False)).exists() or seed != 11
    assert Refund.select().exists()
    for s in (site, other_site):
        assert_exact(s.site.id)
    incremental = picture()
    for s in (site, other_site):
        rebuild_site(Site.get_by_id(s.site.id), utcnow())
    assert picture() == incremental
