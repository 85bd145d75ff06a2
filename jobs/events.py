"""Jobs that apply stored events. Each takes ids and re-reads state from the database."""

from __future__ import annotations

from typing import Any

from companion import pipeline
from companion.core import runtime
from companion.core.db import database
from companion.ingest import carts, receive
from companion.ingest.receive import BatchResult
from companion.metrics.activity_rollups import refresh_recent_carts
from companion.models import Site, utcnow

SWEEP_GRACE_S = 60


def process_events(ids: list[int]) -> int:
    """Apply raw events. Harmless to repeat: only unprocessed events are taken, under a lock."""
    with database.connection_context():
        return pipeline.process_events(ids, utcnow())


def accept_events(site: Site, events: list[Any]) -> BatchResult:
    """Store a batch (each event id once per site) and enqueue its processing: the one way in for
    the plugin's batches, WooCommerce's webhooks and the history import."""
    result = receive.store_batch(site, events, utcnow())
    if result.accepted_ids:
        runtime.enqueue(process_events, result.accepted_ids)
    return result


def sweep_unprocessed() -> int:
    """Re-enqueue events stored but never applied (worker died, Redis lost its queue). Harmless to
    repeat: process_events takes each event under a lock, so exactly one job applies it."""
    with database.connection_context():
        ids = pipeline.unprocessed_ids(utcnow(), SWEEP_GRACE_S)
    for start in range(0, len(ids), 500):
        runtime.enqueue(process_events, ids[start : start + 500])
    return len(ids)


def mark_abandoned_carts() -> int:
    """Idle active carts become abandoned. Harmless to repeat: only active carts change."""
    with database.connection_context():
        return carts.mark_abandoned(utcnow())


def recount_idle_carts() -> int:
    """Carts go idle without any event: recount the days of those that did lately. Harmless to
    repeat: the days are recounted from the carts."""
    with database.connection_context():
        return refresh_recent_carts(utcnow())
