"""A realistic stream of store traffic as the plugin sends it: visits with page and product views,
carts that are updated, abandoned or converted, orders with 1-5 items whose snapshots change
status, and refunds. Deterministic for a seed; generates lazily so a million events fit in
memory."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

CATEGORIES = ["Kitchen", "Garden", "Books", "Toys", "Apparel", "Beauty", "Sports", "Office"]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    def __init__(self, seed: int = 7, products: int = 500, customers: int = 20_000) -> None:
        self.rng = random.Random(seed)
        self.products = [
            (
                str(i),
                f"Product {i}",
                CATEGORIES[i % len(CATEGORIES)],
                round(self.rng.lognormvariate(3.2, 0.7), 2),
            )
            for i in range(1, products + 1)
        ]
        self.customers = customers
        self.order_id = 1000
        self.refund_id = 1

    def _ev(
        self, type_: str, at: datetime, data: dict[str, Any], email: str | None, session: str
    ) -> dict[str, Any]:
        ev: dict[str, Any] = {
            "id": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "type": type_,
            "source": "woocommerce",
            "occurred_at": _iso(at),
            "session_id": session,
            "data": data,
        }
        if email:
            ev["contact"] = {"email": email, "first_name": "Cus", "last_name": email.split("@")[0]}
        return ev

    def _items(self) -> list[dict[str, Any]]:
        items = []
        for pid, name, category, price in self.rng.sample(self.products, self.rng.randint(1, 5)):
            qty = self.rng.choice((1, 1, 1, 2, 3))
            items.append(
                {
                    "product_id": pid,
                    "variation_id": 0,
                    "sku": f"SKU-{pid}",
                    "name": name,
                    "quantity": qty,
                    "price": f"{price:.2f}",
                    "total": f"{price * qty:.2f}",
                    "categories": [category],
                }
            )
        return items

    def visit(self, start: datetime) -> Iterator[dict[str, Any]]:
        """One visitor's session: views, maybe a cart, maybe an order with later snapshots and a
        refund."""
        rng, session = self.rng, uuid.UUID(int=self.rng.getrandbits(128)).hex
        email = f"c{rng.randrange(self.customers)}@example.com"
        at = start
        for _ in range(rng.randint(2, 6)):
            at += timedelta(seconds=rng.randint(5, 120))
            yield self._ev(
                "page.viewed",
                at,
                {
                    "url": "https://shop.example/p",
                    "referrer": None,
                    "utm_source": rng.choice([None, "google", "newsletter"]),
                },
                None,
                session,
            )
            pid, name, category, price = rng.choice(self.products)
            yield self._ev(
                "product.viewed",
                at,
                {
                    "product_id": pid,
                    "name": name,
                    "price": f"{price:.2f}",
                    "categories": [category],
                },
                None,
                session,
            )
        if rng.random() < 0.45:
            yield from self._cart_and_order(at, email, session)

    def _cart_and_order(self, at: datetime, email: str, session: str) -> Iterator[dict[str, Any]]:
        rng, token = self.rng, uuid.UUID(int=self.rng.getrandbits(128)).hex[:20]
        items = self._items()
        value = f"{sum(float(i['total']) for i in items):.2f}"
        for _ in range(rng.randint(1, 3)):
            at += timedelta(seconds=rng.randint(10, 300))
            yield self._ev(
                "cart.updated",
                at,
                {"cart_token": token, "currency": "USD", "value": value, "items": items},
                email if rng.random() < 0.5 else None,
                session,
            )
        if rng.random() < 0.6:
            yield from self._order(at, email, session, token, items, value)

    def _order(
        self,
        at: datetime,
        email: str,
        session: str,
        token: str,
        items: list[dict[str, Any]],
        value: str,
    ) -> Iterator[dict[str, Any]]:
        self.order_id += 1
        created = at + timedelta(seconds=30)
        data = {
            "id": self.order_id,
            "number": str(self.order_id),
            "status": "pending",
            "currency": "USD",
            "total": value,
            "subtotal": value,
            "discount_total": "0.00",
            "tax_total": "0.00",
            "shipping_total": "0.00",
            "coupons": [],
            "items": items,
            "payment_method": "stripe",
            "created_via": "checkout",
            "attribution": {"source_type": self.rng.choice(["organic", "utm", "typein"])},
            "device": self.rng.choice(["mobile", "desktop"]),
            "cart_token": token,
            "created_at": _iso(created),
            "paid_at": None,
            "completed_at": None,
            "modified_at": _iso(created),
        }
        yield self._ev("order.updated", created, dict(data), email, session)
        paid = created + timedelta(seconds=20)
        data.update(status="processing", paid_at=_iso(paid), modified_at=_iso(paid))
        yield self._ev("order.updated", paid, dict(data), email, session)
        if self.rng.random() < 0.1:
            self.refund_id += 1
            refunded = paid + timedelta(days=2)
            yield self._ev(
                "order.refunded",
                refunded,
                {
                    "order_id": self.order_id,
                    "refund_id": self.refund_id,
                    "amount": items[0]["total"],
                    "reason": "damaged",
                    "created_at": _iso(refunded),
                },
                email,
                session,
            )


def events(count: int, seed: int = 7, start: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Exactly `count` events of a store's traffic, in time order per visit."""
    store = Store(seed)
    moment = start or datetime(2026, 1, 1, tzinfo=UTC)
    produced = 0
    while True:
        moment += timedelta(seconds=store.rng.randint(1, 40))
        for event in store.visit(moment):
            yield event
            produced += 1
            if produced >= count:
                return


def orders(
    count: int, seed: int = 7, start: datetime | None = None, customers: int = 50_000
) -> Iterator[dict[str, Any]]:
    """`count` paid orders of 1-5 items and nothing else (an agency's order feed, a history sync):
    buyers drawn from `customers`, so early orders mostly bring new contacts and later ones
    returning."""
    store = Store(seed, customers=customers)
    moment = start or datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(count):
        moment += timedelta(seconds=store.rng.randint(1, 40))
        store.order_id += 1
        items = store._items()
        value = f"{sum(float(i['total']) for i in items):.2f}"
        email = f"c{store.rng.randrange(customers)}@example.com"
        data = {
            "id": store.order_id,
            "number": str(store.order_id),
            "status": "processing",
            "currency": "USD",
            "total": value,
            "subtotal": value,
            "discount_total": "0.00",
            "tax_total": "0.00",
            "shipping_total": "0.00",
            "coupons": [],
            "items": items,
            "payment_method": "stripe",
            "created_via": "checkout",
            "attribution": {"source_type": store.rng.choice(["organic", "utm", "typein"])},
            "device": store.rng.choice(["mobile", "desktop"]),
            "cart_token": None,
            "created_at": _iso(moment),
            "paid_at": _iso(moment),
            "completed_at": None,
            "modified_at": _iso(moment),
        }
        yield store._ev(
            "order.updated", moment, data, email, uuid.UUID(int=store.rng.getrandbits(128)).hex
        )
