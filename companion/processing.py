"""Apply stored events to profiles: claim, apply set-based in one transaction, mark processed.

A claim is a conditional update, so two workers never apply the same event; a claim older than
the claim timeout is taken over (the worker died). Applying and marking happen in one
transaction, so an event is either fully applied and marked, or neither.
"""
from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from peewee import fn

from companion import activity, carts, catalog, contacts, orders
from companion.batch import Batch, Event
from companion.db import write_transaction
from companion.flows import triggers as flow_triggers
from companion.intelligence.refresh import rescore_after_batch
from companion.metrics import incremental as metric_rollups
from companion.models import DeadLetter, RawEvent, utcnow
from companion.models.base import to_naive_utc
from companion.schemas.events import DATA_SCHEMAS, ContactSchema, EventSchema
from companion.schemas.fastload import converter_for

log = logging.getLogger(__name__)

# In this order: who, then what they bought, then what they browsed. Other features (metrics
# roll-ups, flow triggers) append their own step; each takes the batch and its changes.
APPLIERS: list[Callable[[Batch], None]] = [
    contacts.resolve_contacts,
    contacts.stitch_sessions,
    catalog.apply_products,
    orders.apply_orders,
    orders.apply_refunds,
    orders.apply_deletes,
    carts.apply_carts,
    activity.apply_product_views,
    activity.apply_page_views,
    catalog.apply_subscriptions,
]
AFTER_APPLY: list[Callable[[Batch], None]] = [
    rescore_after_batch,
    flow_triggers.apply_flow_triggers,
    metric_rollups.apply_rollups,
]


def _unindexed(column: Any) -> Any:
    """The column wrapped so no engine picks its index: SQLite's planner otherwise walks every
    unprocessed event through the processed_at index instead of the 500 primary keys."""
    return fn.COALESCE(column, None)


def claim(ids: list[int], now: datetime, timeout_s: int) -> tuple[str, list[RawEvent]]:
    """Take the unprocessed events among ids that nobody holds (or whose holder went quiet)."""
    token = secrets.token_hex(8)
    stale = now - timedelta(seconds=timeout_s)
    for start in range(0, len(ids), 500):
        RawEvent.update(claim_token=token, claimed_at=now, attempts=RawEvent.attempts + 1).where(
            RawEvent.id.in_(ids[start:start + 500]), _unindexed(RawEvent.processed_at).is_null(),
            RawEvent.failed_at.is_null(), RawEvent.claimed_at.is_null() | (RawEvent.claimed_at < stale),
        ).execute()
    rows: list[RawEvent] = []
    for start in range(0, len(ids), 500):  # by primary key: claim_token has no index, on purpose
        rows.extend(RawEvent.select(RawEvent.id, RawEvent.site, RawEvent.event_id, RawEvent.payload).where(
            RawEvent.id.in_(ids[start:start + 500]),
                                            RawEvent.claim_token == token))
    rows.sort(key=lambda r: r.id)
    return token, rows


_envelope = converter_for(EventSchema())
_contact = converter_for(ContactSchema())
_data = {type_: converter_for(schema) for type_, schema in DATA_SCHEMAS.items()}


def to_event(row: RawEvent) -> Event:
    """The stored event with typed values (it was validated when it arrived)."""
    raw = json.loads(row.payload)
    envelope = _envelope(raw)
    contact = _contact(raw["contact"]) if raw.get("contact") else None
    if contact and contact.get("email"):
        contact["email"] = contact["email"].strip().lower()
    return Event(seq=row.id, id=envelope["id"], type=envelope["type"], source=envelope["source"],
                 occurred_at=to_naive_utc(envelope["occurred_at"]), session_key=envelope.get("session_id"),
                 contact=contact, data=_data[envelope["type"]](raw.get("data") or {}))


def apply_rows(site_id: int, rows: list[RawEvent], now: datetime) -> Batch:
    batch = Batch(site_id=site_id, now=now, events=[to_event(r) for r in rows])
    for step in APPLIERS:
        step(batch)
    orders.refresh_refunded_totals(batch.touched_orders)
    contacts.refresh_totals(site_id, batch.touched_contacts)
    for step in AFTER_APPLY:
        step(batch)
    return batch


def process_events(ids: list[int], now: datetime | None = None, timeout_s: int = 300) -> int:
    """Apply the given raw events once; returns how many this call applied."""
    now = now or utcnow()
    token, rows = claim(ids, now, timeout_s)
    by_site: dict[int, list[RawEvent]] = {}
    for row in rows:
        by_site.setdefault(row.site_id, []).append(row)
    done = 0
    for site_id, site_rows in by_site.items():
        done += _process_site(site_id, site_rows, token, now)
    return done


def _process_site(site_id: int, rows: list[RawEvent], token: str, now: datetime) -> int:
    try:
        with write_transaction():
            apply_rows(site_id, rows, now)
            _mark_processed([r.id for r in rows], token, now)
        return len(rows)
    except Exception:  # one bad event must not hold back the rest: retry them one by one
        log.exception("batch of %d events for site %s failed; applying one by one", len(rows), site_id)
    done = 0
    for row in rows:
        done += _process_one(site_id, row, token, now)
    return done


def _process_one(site_id: int, row: RawEvent, token: str, now: datetime) -> int:
    try:
        with write_transaction():
            apply_rows(site_id, [row], now)
            _mark_processed([row.id], token, now)
        return 1
    except Exception as exc:
        log.exception("event %s of site %s could not be applied", row.event_id, site_id)
        _fail(row, token, now, f"{type(exc).__name__}: {exc}")
        return 0


def _mark_processed(ids: list[int], token: str, now: datetime) -> None:
    for start in range(0, len(ids), 500):
        RawEvent.update(processed_at=now).where(RawEvent.id.in_(ids[start:start + 500]),
                                                RawEvent.claim_token == token).execute()


def _fail(row: RawEvent, token: str, now: datetime, reason: str) -> None:
    with write_transaction():
        RawEvent.update(failed_at=now, error=reason[:4000]).where(
            RawEvent.id == row.id, RawEvent.claim_token == token).execute()
        DeadLetter.create(site=row.site_id, stage="processing", event_id=row.event_id,
                          payload=row.payload, reason=json.dumps({"_processing": [reason[:4000]]}))


def unprocessed_ids(now: datetime, older_than_s: int, timeout_s: int, limit: int = 5000) -> list[int]:
    """Events stored but not applied: never claimed after a grace period, or claimed and abandoned."""
    grace, stale = now - timedelta(seconds=older_than_s), now - timedelta(seconds=timeout_s)
    query = RawEvent.select(RawEvent.id).where(
        RawEvent.processed_at.is_null(), RawEvent.failed_at.is_null(), RawEvent.received_at <= grace,
        RawEvent.claimed_at.is_null() | (RawEvent.claimed_at < stale),
    ).order_by(RawEvent.id).limit(limit)
    return [r.id for r in query]
