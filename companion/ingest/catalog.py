"""Products and subscriptions: latest state per store id."""

from __future__ import annotations

from typing import Any

from companion.core.bulk import insert_rows
from companion.ingest.batch import Batch, Event
from companion.models import Product, Subscription
from companion.models.base import to_naive_utc


def _latest(events: list[Event], key: str) -> dict[tuple[str, str], Event]:
    newest: dict[tuple[str, str], Event] = {}
    for event in sorted(events, key=lambda e: (e.occurred_at, e.seq)):
        newest[(event.source, event.data[key])] = event
    return newest


def _upsert(model: Any, batch: Batch, newest: dict[tuple[str, str], Event], build: Any) -> None:
    if not newest:
        return
    stored = {
        (r.source, r.external_id): r
        for r in model.select().where(
            model.site == batch.site_id, model.external_id.in_([k[1] for k in newest])
        )
    }
    fresh = [build(batch, e) for k, e in newest.items() if k not in stored]
    insert_rows(model, fresh, ignore_conflicts=True)
    for key, row in stored.items():
        event = newest.get(key)
        if event is not None and event.occurred_at >= row.updated_at:
            values = build(batch, event)
            for k in ("site", "source", "external_id"):
                values.pop(k)
            if values.get("contact") is None and "contact" in values:
                values["contact"] = row.contact_id
            model.update(**values).where(model.id == row.id).execute()


def _product(batch: Batch, event: Event) -> dict[str, Any]:
    d = event.data
    return {
        "site": batch.site_id,
        "source": event.source,
        "external_id": d["id"],
        "name": d.get("name"),
        "sku": d.get("sku"),
        "price": d.get("price"),
        "categories": d.get("categories") or [],
        "url": d.get("url"),
        "image": d.get("image"),
        "stock_quantity": d.get("stock_quantity"),
        "status": d.get("status"),
        "updated_at": event.occurred_at,
    }


def _subscription(batch: Batch, event: Event) -> dict[str, Any]:
    d = event.data
    expires = d.get("expires_at")
    return {
        "site": batch.site_id,
        "source": event.source,
        "external_id": d["id"],
        "kind": d["kind"],
        "status": d["status"],
        "product_id": d.get("product_id"),
        "expires_at": to_naive_utc(expires) if expires else None,
        "renewal_url": d.get("renewal_url"),
        "contact": batch.contact_for(event),
        "updated_at": event.occurred_at,
    }


def apply_products(batch: Batch) -> None:
    _upsert(Product, batch, _latest(batch.of_type("product.updated"), "id"), _product)


def apply_subscriptions(batch: Batch) -> None:
    _upsert(
        Subscription, batch, _latest(batch.of_type("subscription.updated"), "id"), _subscription
    )
