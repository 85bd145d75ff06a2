"""Browsing: product views and visits (page views with no gap over 30 minutes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from companion.core.bulk import among, insert_rows, update_by_id
from companion.core.db import is_mysql, is_postgres
from companion.ingest.batch import Batch, Event
from companion.models import ProductView, Visit

SESSION_IDLE = timedelta(minutes=30)


def apply_product_views(batch: Batch) -> None:
    rows = [
        {
            "site": batch.site_id,
            "contact": batch.contact_for(e),
            "session_key": e.session_key,
            "product_id": e.data["product_id"],
            "name": e.data.get("name"),
            "price": e.data.get("price"),
            "url": e.data.get("url"),
            "occurred_at": e.occurred_at,
        }
        for e in batch.of_type("product.viewed")
    ]
    insert_rows(ProductView, rows)


def apply_page_views(batch: Batch) -> None:
    """Extend the visit a view falls into, or open a new one; visits never overlap per session."""
    views = sorted(
        (e for e in batch.of_type("page.viewed") if e.session_key),
        key=lambda e: (e.occurred_at, e.seq),
    )
    if not views:
        return
    earliest = views[0].occurred_at - SESSION_IDLE
    keys = list({e.session_key for e in views})
    visits: dict[str, list[dict[str, Any]]] = {}
    query = Visit.select().where(
        Visit.site == batch.site_id, among(Visit.session_key, keys), Visit.last_seen_at >= earliest
    )
    if is_postgres() or is_mysql():
        # Locked until commit, in id order: a second worker extending the same visit waits and
        # then reads this one's result (a stale read would overwrite it, and the sessions roll-up,
        # which adds each batch's difference, would count both).
        query = query.order_by(Visit.id).for_update()
    befores = batch.visit_befores
    for visit in query.dicts():
        visits.setdefault(visit["session_key"], []).append(visit)
        befores.setdefault(
            visit["id"], (visit["session_key"], visit["started_at"], visit["last_seen_at"])
        )
    dirty: dict[int, dict[str, Any]] = {}
    new: list[dict[str, Any]] = []
    for event in views:
        _place(batch, event, visits.setdefault(event.session_key or "", []), dirty, new)
    update_by_id(Visit, dirty, ("started_at", "last_seen_at", "page_views", "contact"))
    batch.new_visit_ids.update(row[0] for row in insert_rows(Visit, new, returning=("id",)))
    batch.visit_keys.update(keys)


def _place(
    batch: Batch,
    event: Event,
    visits: list[dict[str, Any]],
    dirty: dict[int, dict[str, Any]],
    new: list[dict[str, Any]],
) -> None:
    at = event.occurred_at
    for visit in visits:
        if visit["started_at"] - SESSION_IDLE <= at <= visit["last_seen_at"] + SESSION_IDLE:
            visit["started_at"] = min(visit["started_at"], at)
            visit["last_seen_at"] = max(visit["last_seen_at"], at)
            visit["page_views"] += 1
            visit["contact"] = visit["contact"] or batch.contact_for(event)
            if "id" in visit:
                dirty[visit["id"]] = visit
            return
    d = event.data
    visit = {
        "site": batch.site_id,
        "session_key": event.session_key,
        "contact": batch.contact_for(event),
        "started_at": at,
        "last_seen_at": at,
        "page_views": 1,
        "landing_url": d["url"],
        "referrer": d.get("referrer"),
        "utm_source": d.get("utm_source"),
        "utm_medium": d.get("utm_medium"),
        "utm_campaign": d.get("utm_campaign"),
    }
    visits.append(visit)
    new.append(visit)
