"""Carts: the latest state per cart token; idle carts become abandoned, orders convert them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companion.core.bulk import among, insert_rows
from companion.core.db import retries_deadlocks
from companion.ingest.batch import Batch, Event
from companion.ingest.orders import PLACED_STATUSES
from companion.models import Cart, Order

ABANDON_AFTER = timedelta(hours=1)


def _items(event: Event) -> list[dict[str, Any]]:
    return [
        {k: (str(v) if k in ("price", "total") and v is not None else v) for k, v in item.items()}
        for item in event.data["items"]
    ]


def _row(batch: Batch, events: list[Event], order_id: int | None) -> dict[str, Any]:
    """A cart as its events of this batch leave it. Its contents are those of the newest event with
    items: the store empties a cart after checkout, and an emptied cart keeps what was in it."""
    newest = events[-1]
    filled = [e for e in events if e.data["items"]]
    contents = filled[-1] if filled else newest
    status = "converted" if order_id else "active" if newest.data["items"] else "emptied"
    return {
        "site": batch.site_id,
        "token": newest.data["cart_token"],
        "source": newest.source,
        "contact": batch.contact_for(contents) or batch.contact_for(newest),
        "session_key": contents.session_key or newest.session_key,
        "currency": contents.data.get("currency"),
        "value": contents.data["value"],
        "items": _items(contents),
        "checkout_url": contents.data.get("checkout_url"),
        "status": status,
        "converted_order": order_id,
        "created_at": events[0].occurred_at,
        "updated_at": newest.occurred_at,
    }


def apply_carts(batch: Batch) -> None:
    """Each cart ends as its newest event leaves it, converted if an order placed from it is
    stored, whatever arrived first: the cart, the order or the empty cart after checkout, in one
    batch or in several. A converted cart stays converted."""
    by_token: dict[str, list[Event]] = {}
    for event in sorted(batch.of_type("cart.updated"), key=lambda e: (e.occurred_at, e.seq)):
        by_token.setdefault(event.data["cart_token"], []).append(event)
    if not by_token:
        return
    orders = placed_orders(batch.site_id, list(by_token))
    stored = {
        c.token: c
        for c in Cart.select().where(Cart.site == batch.site_id, Cart.token.in_(list(by_token)))
    }
    fresh = [
        _with_buyer(_row(batch, events, orders[t][0] if t in orders else None), orders.get(t))
        for t, events in by_token.items()
        if t not in stored
    ]
    insert_rows(Cart, fresh, ignore_conflicts=True)
    for token, cart in stored.items():
        order = orders.get(token)
        _update(
            batch, cart, by_token[token], order[0] if order else None, order[1] if order else None
        )


def placed_orders(site_id: int, tokens: list[str]) -> dict[str, tuple[int, int | None]]:
    """{cart token: (order id, its contact)} of the orders placed from these carts."""
    found: dict[str, tuple[int, int | None]] = {}
    for start in range(0, len(tokens), 500):
        for token, order_id, contact_id in (
            Order.select(Order.cart_token, Order.id, Order.contact)
            .where(
                Order.site == site_id,
                among(Order.cart_token, tokens[start : start + 500]),
                Order.status.in_(PLACED_STATUSES),
            )
            .tuples()
        ):
            found[token] = (order_id, contact_id)
    return found


def _with_buyer(row: dict[str, Any], order: tuple[int, int | None] | None) -> dict[str, Any]:
    if order and row["contact"] is None:
        row["contact"] = order[1]
    return row


def _update(
    batch: Batch, cart: Cart, events: list[Event], order_id: int | None, buyer: int | None = None
) -> None:
    """Status and time from the events newer than the stored cart; contents from the newest event
    with items that is newer, or from any event with items when the stored cart has none (its
    checkout's empty cart, or its order, came first)."""
    newer = [e for e in events if e.occurred_at >= cart.updated_at]
    filled = [e for e in (events if not cart.items else newer) if e.data["items"]]
    changes: dict[str, Any] = {}
    if filled:
        row = _row(batch, filled, None)
        changes.update({k: row[k] for k in ("currency", "value", "items", "checkout_url")})
    if cart.status != "converted" and (newer or order_id):
        row = _row(batch, newer or events, order_id)
        changes.update(
            status=row["status"],
            converted_order=order_id,
            contact=row["contact"] or cart.contact_id or buyer,
            session_key=row["session_key"] or cart.session_key,
            abandoned_at=cart.abandoned_at if order_id else None,
        )
        if newer:
            changes["updated_at"] = row["updated_at"]
    if not changes:
        return
    query = Cart.update(**changes).where(Cart.id == cart.id)
    if "status" in changes:  # another worker's conversion in between stands
        query = query.where(Cart.status != "converted")
    query.execute()


@retries_deadlocks
def mark_abandoned(now: datetime, limit: int = 5000) -> int:
    """Active carts with items idle for an hour are abandoned (the abandoned-cart flow starts
    here)."""
    ids = [
        c.id
        for c in Cart.select(Cart.id)
        .where(Cart.status == "active", Cart.updated_at <= now - ABANDON_AFTER)
        .limit(limit)
    ]
    if not ids:
        return 0
    return (
        Cart.update(status="abandoned", abandoned_at=now)
        .where(Cart.id.in_(ids), Cart.status == "active")
        .execute()
    )
