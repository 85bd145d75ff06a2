"""The privacy world: Ann has bought, refunded, browsed, left a cart, been mailed and unsubscribed;
Bob shops at the same store, and Ann also shops at another site that her erasure must not touch."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from companion.models import Suppression
from tests import factories as f
from tests.flows.conftest import T0, Store, iso

ANN, BOB = "ann@example.com", "bob@example.com"


def ann_history() -> list[dict[str, Any]]:
    at = iso(T0)
    return [
        f.page_view("s-ann", iso(T0 - timedelta(minutes=20)), url="https://shop.example/?ref=ann@example.com"),
        f.product_view("s-ann", iso(T0 - timedelta(minutes=19))),
        f.cart("cart-ann", at=iso(T0 - timedelta(minutes=15)), session="s-ann"),
        _with_phone(f.order(100, modified=at, created=at, paid=at), "+49 30 1234567"),
    ]


def ann_refund() -> dict[str, Any]:
    return f.refund(100, 900, "10.00", at=iso(T0 + timedelta(days=2)))


def _with_phone(event: dict[str, Any], phone: str) -> dict[str, Any]:
    event["contact"]["phone"] = phone
    return event


def bob_history() -> list[dict[str, Any]]:
    at = iso(T0 + timedelta(minutes=5))
    return [f.order(200, modified=at, created=at, paid=at, email=BOB, total="25.00", items=[
        {"product_id": 8, "name": "Cup", "quantity": 1, "price": "25.00", "total": "25.00"}])]


@pytest.fixture
def world(site: Any, other_site: Any, settings: Any) -> Store:
    """Ann's and Bob's history applied, the thank-you mails written, Ann unsubscribed."""
    store, other = Store(site, settings), Store(other_site, settings)
    store.send(ann_history() + bob_history(), T0)
    other.send([f.order(300, modified=iso(T0), created=iso(T0), paid=iso(T0))], T0)
    store.tick(T0 + timedelta(hours=2))
    Suppression.create(site=site.site.id, email=ANN, reason="unsubscribed", created_at=T0 + timedelta(hours=3))
    store.send([ann_refund()], T0 + timedelta(days=2))
    return store
