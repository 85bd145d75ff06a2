"""Ann, Bob and their histories: the people the privacy tests export and erase."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests import factories as f
from tests.flows.store import T0, iso

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
