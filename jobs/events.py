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


PENDING_KEY = "companion:apply-pending:{site_id}"
# How long a site's pending mark stands without its job starting: past it, the next delivery
# enqueues another pass (harmless: a pass that finds nothing finishes at once). It only matters when
# the job was lost with the mark still set (a worker killed between taking the job and starting
# it); the sweeper does not wait for it.
PENDING_TTL_S = 60


def process_events(ids: list[int]) -> int:
    """Apply raw events. Harmless to repeat: only unprocessed events are taken, under a lock."""
    with database.connection_context():
        return pipeline.process_events(ids, utcnow())


def apply_site(site_id: int) -> int:
    """One pass over a site's stored, unapplied events (up to pipeline.PASS_LIMIT), whichever
    deliveries brought them. Harmless to repeat: a pass takes only unapplied events, under a lock,
    and finds nothing when another pass got them first.

    The pending mark goes first, so a delivery stored from now on enqueues the next pass (its
    events may be committed after this pass looked); a full pass enqueues the next one before
    applying, so a second worker takes the events after these meanwhile."""
    runtime.redis_connection().delete(PENDING_KEY.format(site_id=site_id))
    with database.connection_context():
        return pipeline.process_site(site_id, utcnow(), when_full=lambda: schedule_site(site_id))


def schedule_site(site_id: int) -> bool:
    """Enqueue a pass over the site unless one is waiting already: one atomic SET NX in Redis, so
    of many deliveries arriving together one enqueues and the rest join the pass it enqueued. Call
    it after the events are committed: a pass that starts after this call sees them. Whether this
    call enqueued."""
    if not runtime.redis_connection().set(
        PENDING_KEY.format(site_id=site_id), 1, nx=True, ex=PENDING_TTL_S
    ):
        return False
    runtime.enqueue(apply_site, site_id)
    return True


def accept_events(site: Site, events: list[Any]) -> BatchResult:
    """Store a batch (each event id once per site) and see that a pass over its site is waiting:
    the one way in for the plugin's batches, WooCommerce's webhooks and the history import."""
    result = receive.store_batch(site, events, utcnow())
    if result.accepted_ids:
        schedule_site(site.id)
    return result


def sweep_unprocessed() -> int:
    """Enqueue a pass over each site with events stored a while ago and never applied (worker
    died, Redis lost its queue or a pending mark outlived its job); returns how many events wait.
    Enqueued whatever the pending mark says, since the mark may be what is stale. Harmless to
    repeat: a pass takes each event under a lock, so exactly one applies it."""
    with database.connection_context():
        waiting = pipeline.sites_with_unprocessed(utcnow(), SWEEP_GRACE_S)
    for site_id in waiting:
        runtime.enqueue(apply_site, site_id)
    return sum(waiting.values())


def mark_abandoned_carts() -> int:
    """Idle active carts become abandoned. Harmless to repeat: only active carts change."""
    with database.connection_context():
        return carts.mark_abandoned(utcnow())


def recount_idle_carts() -> int:
    """Carts go idle without any event: recount the days of those that did lately. Harmless to
    repeat: the days are recounted from the carts."""
    with database.connection_context():
        return refresh_recent_carts(utcnow())
