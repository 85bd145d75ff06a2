"""Events as the plugin sends them (DESIGN 3.1), with sensible defaults to override."""

from __future__ import annotations

import uuid
from typing import Any


def event(
    type_: str,
    data: dict[str, Any],
    *,
    email: str | None = "ann@example.com",
    at: str = "2026-11-20T10:00:00Z",
    session: str | None = None,
    **contact: Any,
) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": type_,
        "source": "woocommerce",
        "occurred_at": at,
        "data": data,
    }
    if email is not None:
        ev["contact"] = {"email": email, **contact}
    if session:
        ev["session_id"] = session
    return ev


def order(
    order_id: int | str = 100,
    *,
    status: str = "processing",
    total: str = "59.80",
    modified: str = "2026-11-20T10:00:00Z",
    created: str = "2026-11-20T09:58:00Z",
    paid: str | None = "2026-11-20T10:00:00Z",
    items: list[dict[str, Any]] | None = None,
    email: str | None = "ann@example.com",
    currency: str = "EUR",
    **extra: Any,
) -> dict[str, Any]:
    data = {
        "id": order_id,
        "number": str(order_id),
        "status": status,
        "currency": currency,
        "total": total,
        "subtotal": total,
        "discount_total": "0.00",
        "tax_total": "0.00",
        "shipping_total": "0.00",
        "coupons": [],
        "items": items
        if items is not None
        else [
            {
                "product_id": 7,
                "variation_id": 0,
                "sku": "MUG",
                "name": "Mug",
                "quantity": 2,
                "price": "29.90",
                "total": "59.80",
                "categories": ["Kitchen"],
            }
        ],
        "payment_method": "stripe",
        "created_via": "checkout",
        "attribution": {"source_type": "organic", "utm_source": "google"},
        "device": "mobile",
        "created_at": created,
        "paid_at": paid,
        "completed_at": None,
        "modified_at": modified,
    }
    data.update(extra)
    return event("order.updated", data, email=email, at=modified, first_name="Ann", last_name="Lee")


def refund(
    order_id: int | str = 100,
    refund_id: int | str = 900,
    amount: str = "10.00",
    at: str = "2026-11-22T10:00:00Z",
    email: str | None = "ann@example.com",
) -> dict[str, Any]:
    return event(
        "order.refunded",
        {
            "order_id": order_id,
            "refund_id": refund_id,
            "amount": amount,
            "reason": "broken",
            "created_at": at,
        },
        email=email,
        at=at,
    )


def refund_deleted(
    order_id: int | str = 100,
    refund_id: int | str = 900,
    at: str = "2026-11-23T10:00:00Z",
    email: str | None = "ann@example.com",
) -> dict[str, Any]:
    return event(
        "order.refund_deleted", {"order_id": order_id, "refund_id": refund_id}, email=email, at=at
    )


def refunds_listed(
    order_id: int | str = 100,
    refund_ids: list[int | str] | None = None,
    at: str = "2026-12-01T10:00:00Z",
) -> dict[str, Any]:
    """The history sync's list of an order's refunds in the store, recorded `at`."""
    return event(
        "order.refunds_listed",
        {"order_id": order_id, "refund_ids": refund_ids or []},
        email=None,
        at=at,
    )


def cart(
    token: str = "cart-1",
    *,
    value: str = "29.90",
    at: str = "2026-11-20T09:00:00Z",
    email: str | None = "ann@example.com",
    items: list[dict[str, Any]] | None = None,
    session: str | None = None,
) -> dict[str, Any]:
    its = (
        items
        if items is not None
        else [{"product_id": 7, "name": "Mug", "quantity": 1, "price": "29.90", "total": "29.90"}]
    )
    return event(
        "cart.updated",
        {
            "cart_token": token,
            "currency": "EUR",
            "value": value,
            "items": its,
            "checkout_url": "https://shop.example/checkout",
        },
        email=email,
        at=at,
        session=session,
    )


def page_view(
    session: str, at: str, url: str = "https://shop.example/", email: str | None = None
) -> dict[str, Any]:
    return event(
        "page.viewed",
        {"url": url, "referrer": None, "utm_source": "newsletter"},
        email=email,
        at=at,
        session=session,
    )


def product_view(
    session: str, at: str, product_id: int = 7, email: str | None = None
) -> dict[str, Any]:
    return event(
        "product.viewed",
        {
            "product_id": product_id,
            "name": "Mug",
            "price": "29.90",
            "url": "https://shop.example/mug",
            "categories": ["Kitchen"],
        },
        email=email,
        at=at,
        session=session,
    )
