"""Carts: the latest state per cart token; idle carts become abandoned, orders convert them."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companion.ingest.batch import Batch, Event
from companion.models import Cart

ABANDON_AFTER = timedelta(hours=1)


def _row(batch: Batch, event: Event) -> dict[str, Any]:
    d = event.data
    items = [{k: (str(v) if k in ("price", "total") and v is not None else v) for k, v in item.items()}
             for item in d["items"]]
    return {"site": batch.site_id, "token": d["cart_token"], "source": event.source,
            "contact": batch.contact_for(event), "session_key": event.session_key,
            "currency": d.get("currency"), "value": d["value"], "items": items,
            "checkout_url": d.get("checkout_url"), "status": "active" if items else "emptied",
            "created_at": event.occurred_at, "updated_at": event.occurred_at}


def apply_carts(batch: Batch) -> None:
    """Newest cart.updated per token wins; a converted cart stays converted."""
    newest: dict[str, Event] = {}
    for event in sorted(batch.of_type("cart.updated"), key=lambda e: (e.occurred_at, e.seq)):
        newest[event.data["cart_token"]] = event
    if not newest:
        return
    stored = {c.token: c for c in Cart.select().where(Cart.site == batch.site_id,
                                                      Cart.token.in_(list(newest)))}
    fresh = [_row(batch, e) for t, e in newest.items() if t not in stored]
    if fresh:
        Cart.insert_many(fresh).on_conflict_ignore().execute()
    for token, cart in stored.items():
        _update(batch, cart, newest[token])


def _update(batch: Batch, cart: Cart, event: Event) -> None:
    if cart.status == "converted" or event.occurred_at < cart.updated_at:
        return
    row = _row(batch, event)
    for key in ("site", "token", "created_at", "source"):
        row.pop(key)
    row["contact"] = row["contact"] or cart.contact_id
    row["session_key"] = row["session_key"] or cart.session_key
    row["abandoned_at"] = None
    Cart.update(**row).where(Cart.id == cart.id, Cart.status != "converted").execute()


def mark_abandoned(now: datetime, limit: int = 5000) -> int:
    """Active carts with items idle for an hour are abandoned (the abandoned-cart flow starts here)."""
    ids = [c.id for c in Cart.select(Cart.id).where(
        Cart.status == "active", Cart.updated_at <= now - ABANDON_AFTER).limit(limit)]
    if not ids:
        return 0
    return Cart.update(status="abandoned", abandoned_at=now).where(
        Cart.id.in_(ids), Cart.status == "active").execute()
