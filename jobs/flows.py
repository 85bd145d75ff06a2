"""Flow jobs: the minute tick (enqueued by the scheduler), sending due steps, retries, hourly scans.

Each takes ids (or nothing), re-reads state, and is safe to run twice: scans insert under unique
keys, steps are claimed by a conditional update, messages are unique per (enrolment, step).
"""

from __future__ import annotations

from companion.core import runtime
from companion.core.db import database
from companion.flows import delivery, lifecycle, sending
from companion.flows import tick as flow_tick
from companion.models import utcnow


def tick() -> dict[str, int]:
    """Scan, settle, hand out due steps. Harmless to repeat: see companion.flows.tick.tick."""
    with database.connection_context():
        return flow_tick.tick(
            utcnow(),
            lambda ids: runtime.enqueue(send_steps, ids),
            lambda: runtime.enqueue(retry_messages),
        )


def send_steps(ids: list[int]) -> dict[str, int]:
    """Send these due steps. Harmless to repeat: only steps still pending are claimed."""
    with database.connection_context():
        return sending.send_steps(ids, flow_tick.new_run(runtime.settings(), utcnow()))


def retry_messages() -> dict[str, int]:
    """Resend messages SendGrid deferred. Harmless to repeat: each is taken by a conditional
    update."""
    with database.connection_context():
        return delivery.retry_due(flow_tick.new_run(runtime.settings(), utcnow()))


def lifecycle_scans() -> dict[str, int]:
    """Win-back, VIP and replenishment enrolments. Harmless to repeat: enrolments are unique per
    key."""
    with database.connection_context():
        return lifecycle.run_lifecycle_scans(utcnow())
