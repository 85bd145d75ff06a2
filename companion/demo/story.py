"""Days of a shop turned into plugin events (DESIGN 3.1): pure and seeded (same seed, same shop).

Each day gets orders by weekday, month and a gentle growth trend, with one week-long dip (a
payment-provider outage); sessions and page views around them; carts that convert, carts that
are abandoned and some recovered by an email a day or two later; repeat buyers and one-timers;
refunds concentrated on one faulty kettle; one product that sold steadily and then sold out.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from companion.demo.catalogue import BY_ID, FAULTY_REASONS, OTHER_REASONS, PRODUCTS, DemoProduct
from companion.demo.shoppers import (
    EMAIL_CAMPAIGNS,
    Shopper,
    email_attribution,
    new_shopper,
    pick_channel,
)

WEEKDAY = (1.12, 1.0, 0.98, 1.04, 0.93, 0.82, 0.95)  # Monday first
MONTH = (0.95, 0.85, 0.95, 0.95, 0.9, 0.88, 0.84, 0.88, 1.0, 1.05, 1.22, 1.4)
HOURS = [
    0.3,
    0.2,
    0.1,
    0.1,
    0.1,
    0.2,
    0.5,
    1,
    1.5,
    1.8,
    2,
    2,
    2.1,
    2,
    1.9,
    1.8,
    1.8,
    2,
    2.3,
    2.6,
    2.6,
    2,
    1.3,
    0.7,
]
DIP_DAYS_AGO = range(42, 49)  # a week when checkout payments failed for most shoppers
SESSIONS_PER_ORDER = 6  # ~11 % conversion: generous, but every event costs ingest time
SHIPPING = Decimal("4.95")


@dataclass(frozen=True)
class StoryConfig:
    days: int
    orders_per_day: float
    store_url: str
    timezone: str = "UTC"
    currency: str = "USD"
    seed: int = 7
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


class Story:
    def __init__(self, config: StoryConfig) -> None:
        self.c = config
        self.rng = random.Random(config.seed)
        self.zone = ZoneInfo(config.timezone)
        self.shoppers: list[Shopper] = []
        self.later: dict[int, list[dict[str, Any]]] = {}
        self.order_number = 1000
        self._returning: tuple[int, list[Shopper], list[float]] = (-1, [], [])
        self.first_day = config.now.astimezone(self.zone).date() - timedelta(days=config.days - 1)

    def days(self) -> Iterator[list[dict[str, Any]]]:
        """One list of events per day, oldest day first, nothing after `now`."""
        for index in range(self.c.days):
            events = self.catalogue_events(index) + self.day_events(index)
            events += self.later.pop(index, [])
            events.sort(key=lambda e: e["occurred_at"])
            yield [e for e in events if e["occurred_at"] <= _iso(self.c.now)]

    def token(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    # -- time -----------------------------------------------------------------------------------
    def at(self, index: int, hour: float | None = None) -> datetime:
        local_day = self.first_day + timedelta(days=index)
        hour = (
            self.rng.choices(range(24), weights=HOURS)[0] + self.rng.random()
            if hour is None
            else hour
        )
        local = datetime.combine(local_day, datetime.min.time(), self.zone) + timedelta(hours=hour)
        return local.astimezone(UTC)

    def days_ago(self, index: int) -> int:
        return self.c.days - 1 - index

    def expected_orders(self, index: int) -> float:
        day: date = self.first_day + timedelta(days=index)
        trend = 0.85 + 0.3 * index / max(self.c.days, 1)
        dip = 0.45 if self.days_ago(index) in DIP_DAYS_AGO else 1.0
        return self.c.orders_per_day * WEEKDAY[day.weekday()] * MONTH[day.month - 1] * trend * dip

    # -- catalogue ------------------------------------------------------------------------------
    def catalogue_events(self, index: int) -> list[dict[str, Any]]:
        if index == 0:
            return [self.product_event(p, self.at(0, 0.01), p.stock + 300) for p in PRODUCTS]
        stalled = [p for p in PRODUCTS if p.stalls_days_ago == self.days_ago(index)]
        return [self.product_event(p, self.at(index, 0.02), 0, "outofstock") for p in stalled]

    def product_event(
        self, p: DemoProduct, at: datetime, stock: int, status: str = "instock"
    ) -> dict[str, Any]:
        return _event(
            "product.updated",
            at,
            {
                "id": p.id,
                "name": p.name,
                "sku": p.sku,
                "price": str(p.price),
                "categories": [p.category],
                "url": p.url(self.c.store_url),
                "image": None,
                "stock_quantity": stock,
                "status": status,
            },
        )

    def closing_stock(self) -> list[dict[str, Any]]:
        """The shop's stock as it stands now (read by days-of-stock)."""
        at = self.c.now - timedelta(minutes=1)
        return [
            self.product_event(p, at, p.stock, "instock" if p.stock else "outofstock")
            for p in PRODUCTS
        ]

    # -- one day --------------------------------------------------------------------------------
    def day_events(self, index: int) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        orders = _poisson(self.rng, self.expected_orders(index))
        for _ in range(orders):
            events += self.order_visit(index)
        for _ in range(int(orders * 0.9)):
            events += self.abandoned_visit(index)
        for _ in range(orders * SESSIONS_PER_ORDER):
            events += self.browse_visit(index)
        return events

    def returning(self, index: int) -> tuple[list[Shopper], list[float]]:
        """Repeat buyers due for another order today, and their weights (cached per day)."""
        if self._returning[0] != index:
            eligible = [s for s in self.shoppers if s.is_eligible(index)]
            self._returning = (
                index,
                eligible,
                list(itertools.accumulate(s.rate for s in eligible)),
            )
        return self._returning[1], self._returning[2]

    def shopper_for(self, index: int) -> Shopper:
        eligible, weights = self.returning(index)
        daily = weights[-1] / 30 if weights else 0.0
        if eligible and self.rng.random() < min(0.45, daily / max(self.expected_orders(index), 1)):
            chosen = self.rng.choices(eligible, cum_weights=weights)[0]
            if chosen.last_order_day != index:
                return chosen
        shopper = new_shopper(self.rng, len(self.shoppers) + 1)
        self.shoppers.append(shopper)
        return shopper

    def basket(self, index: int) -> list[dict[str, object]]:
        on_sale = [
            p
            for p in PRODUCTS
            if p.stalls_days_ago is None or self.days_ago(index) > p.stalls_days_ago
        ]
        first = self.rng.choices(on_sale, weights=[p.popularity for p in on_sale])[0]
        chosen = [first]
        if first.partner and self.rng.random() < 0.45 and BY_ID[first.partner] in on_sale:
            chosen.append(BY_ID[first.partner])
        if self.rng.random() < 0.18:
            extra = self.rng.choice(on_sale)
            chosen += [] if extra in chosen else [extra]
        return [p.as_item(self.rng.choice((1, 1, 2, 3)) if p.consumable else 1) for p in chosen]

    def order_visit(self, index: int) -> list[dict[str, Any]]:
        shopper = self.shopper_for(index)
        at, session = self.at(index), self.token()
        _, attribution = pick_channel(self.rng)
        if shopper.orders and self.rng.random() < 0.22:
            attribution = email_attribution(self.rng.choice(EMAIL_CAMPAIGNS))
        items = self.basket(index)
        events = self.session_events(session, at - timedelta(minutes=14), items, attribution)
        cart_token = self.token()
        events.append(
            self.cart_event(cart_token, at - timedelta(minutes=5), items, session, shopper)
        )
        events += self.order_events(index, shopper, at, items, attribution, session, cart_token)
        return events

    def order_events(
        self,
        index: int,
        shopper: Shopper,
        at: datetime,
        items: list[dict[str, object]],
        attribution: dict[str, str | None],
        session: str | None,
        cart_token: str,
    ) -> list[dict[str, Any]]:
        shopper.ordered(index, self.rng)
        self.order_number += 1
        failed = self.rng.random() < 0.025
        order = self.order_data(
            self.order_number, at, items, attribution, cart_token, failed, index
        )
        event = _event("order.updated", at, order, shopper.contact(), session)
        if not failed:
            self.maybe_refund(index, order, items, shopper)
        return [event]

    def order_data(
        self,
        number: int,
        at: datetime,
        items: list[dict[str, object]],
        attribution: dict[str, str | None],
        cart_token: str,
        failed: bool,
        index: int,
    ) -> dict[str, Any]:
        subtotal = sum((Decimal(str(i["total"])) for i in items), Decimal(0))
        coupon = self.rng.random() < 0.12
        discount = (subtotal * Decimal("0.10")).quantize(Decimal("0.01")) if coupon else Decimal(0)
        shipping = SHIPPING if subtotal < 50 else Decimal(0)
        done = self.days_ago(index) > 3
        status = "failed" if failed else ("completed" if done else "processing")
        return {
            "id": number,
            "number": str(number),
            "status": status,
            "currency": self.c.currency,
            "total": str(subtotal - discount + shipping),
            "subtotal": str(subtotal),
            "discount_total": str(discount),
            "tax_total": "0.00",
            "shipping_total": str(shipping),
            "coupons": ["WELCOME10"] if coupon else [],
            "items": items,
            "payment_method": self.rng.choice(("stripe", "stripe", "paypal", "klarna")),
            "created_via": "checkout",
            "attribution": attribution,
            "cart_token": cart_token,
            "device": self.rng.choices(("mobile", "desktop", "tablet"), weights=(58, 36, 6))[0],
            "created_at": _iso(at),
            "paid_at": None if failed else _iso(at),
            "completed_at": _iso(at + timedelta(days=2)) if done and not failed else None,
            "modified_at": _iso(at + timedelta(days=2) if done else at),
        }

    def maybe_refund(
        self, index: int, order: dict[str, Any], items: list[dict[str, object]], shopper: Shopper
    ) -> None:
        faulty = [i for i in items if BY_ID[int(str(i["product_id"]))].faulty]
        bad_batch = index > self.c.days * 0.45
        if faulty and bad_batch and self.rng.random() < 0.42:
            amount, reason, full = (
                Decimal(str(faulty[0]["total"])),
                self.rng.choice(FAULTY_REASONS),
                False,
            )
        elif self.rng.random() < 0.025:
            amount, reason, full = Decimal(order["total"]), self.rng.choice(OTHER_REASONS), True
        else:
            return
        later = index + self.rng.randint(3, 12)
        at = self.at(later)
        refund = _event(
            "order.refunded",
            at,
            {
                "order_id": order["id"],
                "refund_id": f"r{order['id']}",
                "amount": str(amount),
                "reason": reason,
                "created_at": _iso(at),
            },
            shopper.contact(),
        )
        self.later.setdefault(later, []).append(refund)
        if full:
            snapshot = dict(order, status="refunded", modified_at=_iso(at + timedelta(minutes=1)))
            self.later[later].append(
                _event("order.updated", at + timedelta(minutes=1), snapshot, shopper.contact())
            )

    # -- browsing and carts ---------------------------------------------------------------------
    def session_events(
        self,
        session: str,
        at: datetime,
        items: list[dict[str, object]],
        attribution: dict[str, str | None],
    ) -> list[dict[str, Any]]:
        utm = {k: v for k, v in attribution.items() if k.startswith("utm_")}
        events = [
            _event(
                "page.viewed",
                at,
                {"url": self.c.store_url + "/", "referrer": None, **utm},
                session=session,
            )
        ]
        for n, item in enumerate(items, start=1):
            product = BY_ID[int(str(item["product_id"]))]
            view_at = at + timedelta(minutes=2 * n)
            events.append(
                _event(
                    "product.viewed",
                    view_at,
                    {
                        "product_id": product.id,
                        "name": product.name,
                        "price": str(product.price),
                        "url": product.url(self.c.store_url),
                        "categories": [product.category],
                    },
                    session=session,
                )
            )
        return events

    def cart_event(
        self,
        token: str,
        at: datetime,
        items: list[dict[str, object]],
        session: str | None,
        shopper: Shopper | None,
    ) -> dict[str, Any]:
        value = sum((Decimal(str(i["total"])) for i in items), Decimal(0))
        return _event(
            "cart.updated",
            at,
            {
                "cart_token": token,
                "currency": self.c.currency,
                "value": str(value),
                "items": items,
                "checkout_url": f"{self.c.store_url}/checkout",
            },
            shopper.contact() if shopper else None,
            session,
        )

    def abandoned_visit(self, index: int) -> list[dict[str, Any]]:
        at, session, token = self.at(index), self.token(), self.token()
        _, attribution = pick_channel(self.rng)
        items = self.basket(index)
        shopper = self.shopper_for(index) if self.rng.random() < 0.45 else None
        events = self.session_events(session, at - timedelta(minutes=8), items, attribution)
        events.append(self.cart_event(token, at, items, session, shopper))
        if shopper is not None and self.rng.random() < 0.22:
            later = index + self.rng.choice((1, 1, 2, 3))
            order = self.order_events(
                later,
                shopper,
                self.at(later),
                items,
                email_attribution("abandoned_cart"),
                None,
                token,
            )
            self.later.setdefault(later, []).extend(order)
        return events

    def browse_visit(self, index: int) -> list[dict[str, Any]]:
        at, session = self.at(index), self.token()
        _, attribution = pick_channel(self.rng)
        utm = {k: v for k, v in attribution.items() if k.startswith("utm_")}
        page = self.rng.choice(
            ("/", "/shop", "/blog/brewing-guide", "/category/coffee", "/category/tea")
        )
        return [
            _event(
                "page.viewed",
                at,
                {"url": self.c.store_url + page, "referrer": None, **utm},
                session=session,
            )
        ]


def _event(
    type_: str,
    at: datetime,
    data: dict[str, Any],
    contact: dict[str, object] | None = None,
    session: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": type_,
        "source": "woocommerce",
        "occurred_at": _iso(at),
        "data": data,
    }
    if contact:
        event["contact"] = contact
    if session:
        event["session_id"] = session
    return event


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal for large ones."""
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
