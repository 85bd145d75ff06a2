"""Customer profiles as the API and the dashboard show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companion.core.numbers import whole_number
from companion.models import (
    Cart,
    Contact,
    Order,
    OrderItem,
    ProductView,
    Refund,
    Subscription,
    Visit,
)
from companion.models.base import as_aware

RECENT = 50


def list_contacts(
    site_id: int,
    q: str | None = None,
    stage: str | None = None,
    segment: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    query = Contact.select().where(Contact.site == site_id, Contact.erased_at.is_null())
    if q:
        query = query.where(
            Contact.email.contains(q.lower())
            | Contact.first_name.contains(q)
            | Contact.last_name.contains(q)
        )
    if stage:
        query = query.where(Contact.stage == stage)
    if segment:
        query = query.where(Contact.rfm_segment == segment)
    total = query.count()
    rows = query.order_by(
        Contact.last_order_at.is_null(), Contact.last_order_at.desc(), Contact.id.desc()
    ).paginate(page, per_page)
    return [summary(c) for c in rows], total


def find_contact(site_id: int, key: str) -> Contact | None:
    """The site's contact by email or by id; None for anything else."""
    if "@" in key:
        where = Contact.email == key.strip().lower()
    elif (number := whole_number(key)) is not None:
        where = Contact.id == number
    else:
        return None
    return Contact.get_or_none((Contact.site == site_id) & where & Contact.erased_at.is_null())


def summary(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "marketing_consent": contact.marketing_consent,
        "orders_count": contact.orders_count,
        "total_spent": contact.total_spent,
        "refunded": contact.refunded,
        "net_spent": contact.total_spent - contact.refunded,
        "first_order_at": as_aware(contact.first_order_at),
        "last_order_at": as_aware(contact.last_order_at),
        "stage": contact.stage,
        "created_at": as_aware(contact.created_at),
        "rfm": None
        if contact.rfm_segment is None
        else {
            "r": contact.rfm_r,
            "f": contact.rfm_f,
            "m": contact.rfm_m,
            "segment": contact.rfm_segment,
        },
    }


def profile(contact: Contact) -> dict[str, Any]:
    data = summary(contact)
    data.update(
        phone=contact.phone,
        wp_user_id=contact.wp_user_id,
        stage_reason=contact.stage_reason,
        orders=_orders(contact),
        carts=_rows(Cart, contact, Cart.updated_at),
        product_views=_rows(ProductView, contact, ProductView.occurred_at),
        visits=_rows(Visit, contact, Visit.started_at),
        subscriptions=_rows(Subscription, contact, Subscription.updated_at),
    )
    data.update(_predictions(contact))
    return data


def _predictions(contact: Contact) -> dict[str, Any]:
    if contact.p_alive is None:
        return {
            "predictions": None,
            "predictions_reason": "Predictions need at least 500 customers with orders and 180 "
            "days "
            "of history, and are computed by the nightly intelligence refresh.",
        }
    return {
        "predictions": {
            "p_alive": contact.p_alive,
            "expected_purchases_90": contact.expected_purchases_90,
            "expected_purchases_365": contact.expected_purchases_365,
            "expected_next_order_at": as_aware(contact.expected_next_order_at),
            "predicted_clv_365": contact.predicted_clv_365,
        },
        "predictions_reason": None,
    }


def _rows(model: Any, contact: Contact, order_by: Any) -> list[dict[str, Any]]:
    rows = (
        model.select()
        .where(model.site == contact.site_id, model.contact == contact.id)
        .order_by(order_by.desc())
        .limit(RECENT)
        .dicts()
    )
    return [_aware(r) for r in rows]


def _aware(row: dict[str, Any]) -> dict[str, Any]:
    return {k: as_aware(v) if isinstance(v, datetime) else v for k, v in row.items()}


def _orders(contact: Contact) -> list[dict[str, Any]]:
    orders = [
        _aware(o)
        for o in Order.select()
        .where(
            Order.site == contact.site_id, Order.contact == contact.id, Order.deleted_at.is_null()
        )
        .order_by(Order.created_at.desc())
        .limit(RECENT)
        .dicts()
    ]
    ids = [o["id"] for o in orders]
    items: dict[int, list[dict[str, Any]]] = {}
    refunds: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for item in OrderItem.select().where(OrderItem.order.in_(ids)).dicts():
            items.setdefault(item["order"], []).append(item)
        for refund in (
            Refund.select().where(Refund.order.in_(ids)).order_by(Refund.created_at).dicts()
        ):
            refunds.setdefault(refund["order"], []).append(_aware(refund))
    for order in orders:
        order["items"], order["refunds"] = items.get(order["id"], []), refunds.get(order["id"], [])
    return orders
