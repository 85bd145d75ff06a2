"""The pipeline: apply stored events to profiles, then let the features react, in one transaction.

It sits above the features and owns the order of both lists: APPLIERS (companion.ingest: who,
what they bought, what they browsed) and AFTER_APPLY (privacy, intelligence, flows, metrics), each
step taking the batch with its moment and what it changed.

Taking locks the events (SKIP LOCKED on PostgreSQL and MariaDB, the exclusive write lock on
SQLite), so two workers never apply the same event, and an event is either fully applied and
marked, or neither: a worker that dies mid-batch leaves it for the sweeper.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from peewee import fn

from companion import privacy
from companion.core.bulk import among
from companion.core.db import (
    database,
    is_deadlock,
    is_mysql,
    is_postgres,
    lock_site_rollups,
    retry_deadlocks,
    unindexed,
    write_transaction,
)
from companion.flows import triggers as flow_triggers
from companion.ingest import activity, carts, catalog, contacts, orders, refund_lists
from companion.ingest.batch import Batch, Event
from companion.intelligence.refresh import rescore_after_batch
from companion.metrics import incremental as metric_rollups
from companion.models import DeadLetter, RawEvent
from companion.models.base import to_naive_utc
from companion.schemas.events import DATA_SCHEMAS, EventSchema
from companion.schemas.fastload import converter_for

log = logging.getLogger(__name__)

# In this order: who, then what they bought, then what they browsed.
APPLIERS: list[Callable[[Batch], None]] = [
    contacts.resolve_contacts,
    contacts.stitch_sessions,
    catalog.apply_products,
    orders.apply_orders,
    refund_lists.apply_refund_lists,
    orders.apply_refund_deletes,
    orders.apply_refunds,
    orders.apply_deletes,
    carts.apply_carts,
    activity.apply_product_views,
    activity.apply_page_views,
    catalog.apply_subscriptions,
]
# Then the features: a returning erased person is suppressed again before anything can enrol
# them; scores before flow triggers (VIP and win-back read stages); roll-ups last.
AFTER_APPLY: list[Callable[[Batch], None]] = [
    privacy.resuppress_returning,
    rescore_after_batch,
    flow_triggers.apply_flow_triggers,
    metric_rollups.apply_rollups,
]


class Taken(NamedTuple):
    """A stored event taken to apply: what applying reads of its raw_event row."""

    id: int
    site_id: int
    event_id: str
    payload: str


TAKEN = (RawEvent.id, RawEvent.site, RawEvent.event_id, RawEvent.payload)


def take(ids: list[int]) -> list[Taken]:
    """Inside a write transaction: the still-unprocessed events among ids, locked until commit.

    On PostgreSQL and MariaDB rows another worker holds are skipped (SKIP LOCKED), so two workers
    never apply the same event; SQLite's write transaction is exclusive already. A worker that dies
    rolls back, leaving its events unprocessed for the sweeper.
    """
    rows: list[Taken] = []
    for start in range(0, len(ids), 500):
        query = (
            RawEvent.select(*TAKEN)
            .where(
                among(RawEvent.id, ids[start : start + 500]),
                unindexed(RawEvent.processed_at).is_null(),
                RawEvent.failed_at.is_null(),
            )
            .order_by(RawEvent.id)
        )
        if is_postgres() or is_mysql():
            query = query.for_update("FOR UPDATE SKIP LOCKED")
        rows.extend(_taken(query))
    return rows


def take_pending(site_id: int, limit: int) -> list[Taken]:
    """Inside a write transaction: up to `limit` of the site's events still to apply, oldest first,
    locked until commit; rows another worker holds are skipped, as in `take`. Served by the
    raw_event_pending index (migration 34), so it costs the same at any history size."""
    query = (
        RawEvent.select(*TAKEN)
        .where(
            RawEvent.site == site_id,
            RawEvent.processed_at.is_null(),
            RawEvent.failed_at.is_null(),
        )
        .order_by(RawEvent.id)
        .limit(limit)
    )
    if is_postgres() or is_mysql():
        query = query.for_update("FOR UPDATE SKIP LOCKED")
    return _taken(query)


def _taken(query: Any) -> list[Taken]:
    """The rows as the driver gives them (ints and text, as the columns' python_value would
    return them): peewee's row wrapper converts each value with a call, 4 per taken event."""
    return list(map(Taken._make, database.execute(query).fetchall()))


_envelope = converter_for(EventSchema())
_data = {type_: converter_for(schema) for type_, schema in DATA_SCHEMAS.items()}


def to_event(row: Taken) -> Event:
    """The stored event with typed values (it was validated when it arrived)."""
    raw = json.loads(row.payload)
    envelope = _envelope(raw)
    contact = envelope.get("contact") or None  # converted with the envelope's ContactSchema
    if contact and contact.get("email"):
        contact["email"] = contact["email"].strip().lower()
    if (
        contact and contact.get("wp_user_id") == "0"
    ):  # WordPress has no user 0: a guest (older EDD plugins)
        contact["wp_user_id"] = None
    return Event(
        seq=row.id,
        id=envelope["id"],
        type=envelope["type"],
        source=envelope["source"],
        occurred_at=to_naive_utc(envelope["occurred_at"]),
        session_key=envelope.get("session_id"),
        contact=contact,
        data=_data[envelope["type"]](raw.get("data") or {}),
    )


def apply_rows(site_id: int, rows: list[Taken], now: datetime) -> Batch:
    lock_site_rollups(site_id, exclusive=False)  # before any contact or roll-up row is locked
    batch = Batch(site_id=site_id, now=now, events=[to_event(r) for r in rows])
    for step in APPLIERS:
        step(batch)
    orders.refresh_refunded_totals(batch.touched_orders)
    batch.contact_facts = contacts.refresh_totals(batch)
    for step in AFTER_APPLY:
        step(batch)
    return batch


def process_events(ids: list[int], now: datetime) -> int:
    """Apply the given raw events once, as of `now` (the worker's clock when it took them; a test's
    simulated moment); returns how many this call applied. A batch that loses a deadlock is run
    again whole; one that keeps losing fails the job and stays unapplied for the sweeper: a
    deadlock says nothing about the events, so it never makes a dead letter."""
    try:
        return retry_deadlocks(lambda: _apply_batch(ids, now))
    except Exception as exc:  # one bad event must not hold back the rest: apply them one by one
        if is_deadlock(exc):
            raise
        log.exception("a batch of %d events failed; applying them one by one", len(ids))
    return sum(_process_one(event_id, now) for event_id in ids)


PASS_LIMIT = 500  # events of one site applied in one pass (one transaction), as the import's pages


def process_site(
    site_id: int,
    now: datetime,
    limit: int | None = None,
    when_full: Callable[[], None] | None = None,
) -> int:
    """Apply up to `limit` (default PASS_LIMIT) of the site's stored and still unapplied events in
    one pass, as of `now`; returns how many this call applied (0 when another pass got them first).

    Many small deliveries become one batch: contacts, scores, flow triggers and roll-ups are
    refreshed once for all of them, which costs about what one delivery cost. When the pass is full
    (more may be waiting), `when_full` is called after taking and before applying, so another
    worker can take the next events meanwhile (the taken ones are locked). Failure handling is
    `process_events`': a lost deadlock runs the pass again, any other error applies the taken
    events one by one."""
    taken: list[int] = []
    limit = limit or PASS_LIMIT

    def one_pass() -> int:
        with write_transaction():
            rows = take_pending(site_id, limit)
            taken[:] = [r.id for r in rows]
            if len(rows) == limit and when_full is not None:
                when_full()
            if rows:
                apply_rows(site_id, rows, now)
                _mark_processed(taken, now)
        return len(rows)

    try:
        return retry_deadlocks(one_pass)
    except Exception as exc:
        if is_deadlock(exc):
            raise
        log.exception("a pass of %d events of site %s failed; one by one", len(taken), site_id)
    return sum(_process_one(event_id, now) for event_id in list(taken))


def _apply_batch(ids: list[int], now: datetime) -> int:
    with write_transaction():
        rows = take(ids)
        for site_id, site_rows in _by_site(rows).items():
            apply_rows(site_id, site_rows, now)
        _mark_processed([r.id for r in rows], now)
    return len(rows)


def _by_site(rows: list[Taken]) -> dict[int, list[Taken]]:
    by_site: dict[int, list[Taken]] = {}
    for row in rows:
        by_site.setdefault(row.site_id, []).append(row)
    return by_site


def _process_one(event_id: int, now: datetime) -> int:
    try:
        return retry_deadlocks(lambda: _apply_batch([event_id], now))
    except Exception as exc:
        if is_deadlock(exc):
            raise
        log.exception("raw event %s could not be applied", event_id)
        _fail(event_id, now, f"{type(exc).__name__}: {exc}")
        return 0


def _mark_processed(ids: list[int], now: datetime) -> None:
    for start in range(0, len(ids), 500):
        RawEvent.update(processed_at=now).where(
            among(RawEvent.id, ids[start : start + 500])
        ).execute()


def _fail(event_id: int, now: datetime, reason: str) -> None:
    """Keep the event as a dead letter with the error; it is not retried by the sweeper."""
    with write_transaction():
        rows = take([event_id])
        for row in rows:
            RawEvent.update(failed_at=now, error=reason[:4000]).where(
                RawEvent.id == row.id
            ).execute()
            DeadLetter.create(
                site=row.site_id,
                stage="processing",
                event_id=row.event_id,
                payload=row.payload,
                reason=json.dumps({"_processing": [reason[:4000]]}),
            )


def sites_with_unprocessed(now: datetime, older_than_s: int) -> dict[int, int]:
    """Sites with events stored a while ago and still not applied, and how many each has."""
    grace = now - timedelta(seconds=older_than_s)
    query = (
        RawEvent.select(RawEvent.site, fn.COUNT(RawEvent.id).alias("waiting"))
        .where(
            RawEvent.processed_at.is_null(),
            RawEvent.failed_at.is_null(),
            RawEvent.received_at <= grace,
        )
        .group_by(RawEvent.site)
        .tuples()
    )
    return dict(query.iterator())


def unprocessed_ids(now: datetime, older_than_s: int, limit: int = 5000) -> list[int]:
    """Events stored a while ago and still not applied (their job was lost or its worker died)."""
    grace = now - timedelta(seconds=older_than_s)
    query = (
        RawEvent.select(RawEvent.id)
        .where(
            RawEvent.processed_at.is_null(),
            RawEvent.failed_at.is_null(),
            RawEvent.received_at <= grace,
        )
        .order_by(RawEvent.id)
        .limit(limit)
    )
    return [r.id for r in query]
