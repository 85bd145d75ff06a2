"""Jobs that apply stored events. Each takes ids and re-reads state from the database."""
from __future__ import annotations

from companion import carts, processing, runtime
from companion.db import database
from companion.models import utcnow

SWEEP_GRACE_S = 60


def process_events(ids: list[int]) -> int:
    """Apply raw events. Harmless to repeat: only unclaimed, unprocessed events are taken."""
    with database.connection_context():
        return processing.process_events(ids, timeout_s=runtime.settings().claim_timeout_s)


def sweep_unprocessed() -> int:
    """Re-enqueue events stored but never applied (worker died, Redis lost its queue). Harmless to
    repeat: the claim in process_events lets exactly one job apply each event."""
    with database.connection_context():
        ids = processing.unprocessed_ids(utcnow(), SWEEP_GRACE_S, runtime.settings().claim_timeout_s)
    for start in range(0, len(ids), 500):
        runtime.enqueue(process_events, ids[start:start + 500])
    return len(ids)


def mark_abandoned_carts() -> int:
    """Idle active carts become abandoned. Harmless to repeat: only active carts change."""
    with database.connection_context():
        return carts.mark_abandoned(utcnow())
