"""Seeded random streams of store events, and a comparable picture of the roll-up tables."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from companion.models import (
    CohortMonth,
    CustomerLedger,
    CustomerOrderDay,
    RollupCarts,
    RollupDaily,
    RollupDimension,
    RollupSessions,
)
from companion.models.rollups import CustomerDayMonth, RollupDimensionMonth
from tests import factories as f

STATUSES = ("pending", "on_hold", "processing", "completed", "cancelled", "refunded", "failed")
EMAILS = ("ann@example.com", "bob@example.com", "cy@example.com", "Ann@Example.com", None)
START = datetime(2026, 10, 28, 0, 0, tzinfo=UTC)  # New York changes to winter time on 1 November


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def random_stream(seed: int, orders: int = 30) -> list[dict[str, Any]]:
    """Creates, status changes, refunds (some before their order), deletes and page views."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for number in range(1, orders + 1):
        events += _order_life(rng, number)
    for n in range(10):
        at = START + timedelta(minutes=rng.randrange(0, 8 * 24 * 60))
        events.append(f.page_view(f"s{rng.randrange(4)}", iso(at)))
        if n % 3 == 0:
            events.append(
                f.cart(f"cart-{rng.randrange(5)}", at=iso(at), session=f"s{rng.randrange(4)}")
            )
    rng.shuffle(events)
    return events


def _order_life(rng: random.Random, number: int) -> list[dict[str, Any]]:
    created = START + timedelta(minutes=rng.randrange(0, 8 * 24 * 60))
    email, currency = rng.choice(EMAILS), rng.choice(("EUR", "EUR", "USD"))
    items = [
        {
            "product_id": rng.choice((1, 2, 3)),
            "variation_id": 0,
            "sku": None,
            "name": "P",
            "quantity": rng.randrange(1, 3),
            "price": "5.00",
            "total": f"{rng.randrange(0, 5000) / 100:.2f}",
            "categories": rng.sample(["A", "B", "C"], rng.randrange(0, 3)),
        }
        for _ in range(rng.randrange(0, 3))
    ]
    extra = {
        "payment_method": rng.choice(("stripe", "paypal", None)),
        "device": rng.choice(("mobile", None)),
        "cart_token": f"cart-{rng.randrange(5)}",
    }
    events, modified = [], created
    for _ in range(rng.randrange(1, 4)):
        modified += timedelta(minutes=rng.randrange(1, 3000))
        status = rng.choice(STATUSES)
        paid = created + timedelta(hours=rng.randrange(0, 30)) if rng.random() < 0.7 else None
        events.append(
            f.order(
                number,
                status=status,
                total=f"{rng.randrange(0, 20000) / 100:.2f}",
                created=iso(created),
                modified=iso(modified),
                paid=iso(paid) if paid else None,
                items=items,
                email=email,
                currency=currency,
                **extra,
            )
        )
    for refund in range(rng.randrange(0, 3)):
        at = created + timedelta(hours=rng.randrange(-5, 24 * 40))
        events.append(
            f.refund(number, f"{number}-{refund}", f"{rng.randrange(1, 3000) / 100:.2f}", iso(at))
        )
    if rng.random() < 0.15:
        events.append(
            f.event("order.deleted", {"order_id": number}, at=iso(modified + timedelta(minutes=5)))
        )
    return events


KEY_COLUMNS = (
    "site",
    "day",
    "currency",
    "dimension",
    "key",
    "cohort_month",
    "month",
    "next_day",
)


def picture() -> dict[str, Any]:
    """Every roll-up row (without ids and all-zero rows), comparable across rebuilds."""
    out = {}
    for model in (
        RollupDaily,
        RollupDimension,
        RollupDimensionMonth,
        RollupSessions,
        RollupCarts,
        CustomerLedger,
        CustomerOrderDay,
        CohortMonth,
        CustomerDayMonth,
    ):
        names = [n for n in model._meta.sorted_field_names if n != "id"]
        rows = []
        for row in model.select(*[getattr(model, n) for n in names]).tuples():
            values = dict(zip(names, row, strict=True))
            numbers = [v for k, v in values.items() if k not in KEY_COLUMNS]
            if any(str(v) not in ("0", "0.0000") for v in numbers):
                rows.append(tuple(str(v) for v in row))
        out[model.__name__] = sorted(rows)
    return out
