"""The scheduler's minute: scan for new enrolments, settle what dead workers left, and hand due
steps to the workers. Every query here goes through an index (docs/flows.md shows the plans)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from companion.core.settings import Settings
from companion.flows.delivery import retry_due
from companion.flows.run import SendRun
from companion.flows.scans import run_minute_scans
from companion.flows.sending import send_steps, transport_for
from companion.flows.settlement import mark_uncertain, release_stale_claims
from companion.models import Message, ScheduledStep

REENQUEUE_AFTER = timedelta(
    minutes=10
)  # a step handed out but not claimed by then is handed out again
JOB_SIZE = 1000  # SendGrid takes up to 1,000 personalizations per request
TICK_LIMIT = 20_000


def due_steps(now: datetime, limit: int = TICK_LIMIT) -> Any:
    """Pending steps due by now, not handed out recently: index (status, due_at)."""
    return (
        ScheduledStep.select(ScheduledStep.id)
        .where(
            ScheduledStep.status == "pending",
            ScheduledStep.due_at <= now,
            ScheduledStep.enqueued_at.is_null()
            | (ScheduledStep.enqueued_at < now - REENQUEUE_AFTER),
        )
        .order_by(ScheduledStep.due_at)
        .limit(limit)
    )


def due_step_ids(now: datetime, limit: int = TICK_LIMIT) -> list[int]:
    return [row.id for row in due_steps(now, limit)]


def has_retries_due(now: datetime) -> bool:
    return (
        Message.select(Message.id)
        .where(Message.status == "retrying", Message.next_attempt_at <= now)
        .exists()
    )


def tick(
    now: datetime,
    enqueue_steps: Callable[[list[int]], Any],
    enqueue_retries: Callable[[], Any] | None = None,
) -> dict[str, int]:
    """One beat. Safe to repeat or to cut short: scans are idempotent, steps are claimed by the
    worker that sends them, and an id handed out twice is claimed once."""
    counts = run_minute_scans(now)
    counts["uncertain"] = mark_uncertain(now)
    counts["released"] = release_stale_claims(now)
    ids = due_step_ids(now)
    for start in range(0, len(ids), JOB_SIZE):
        chunk = ids[start : start + JOB_SIZE]
        ScheduledStep.update(enqueued_at=now).where(ScheduledStep.id.in_(chunk)).execute()
        enqueue_steps(chunk)
    counts["due_steps"] = len(ids)
    if enqueue_retries is not None and has_retries_due(now):
        enqueue_retries()
    return counts


def new_run(settings: Settings, now: datetime, transport: Any = "configured") -> SendRun:
    """A SendRun from settings; `transport` may be given (tests, benchmarks) or None (outbox)."""
    chosen = transport_for(settings) if transport == "configured" else transport
    return SendRun(
        now=now,
        public_url=settings.public_url,
        secret=settings.secret_key.encode(),
        transport=chosen,
    )


def run_inline(settings: Settings, now: datetime, transport: Any = "configured") -> dict[str, int]:
    """A tick whose due steps are sent in this process at once (simulations, `companion run`-less
    tests): the same code a worker runs, without the queue in between."""
    sent: dict[str, int] = {}

    def send_now(ids: list[int]) -> None:
        for what, n in send_steps(ids, new_run(settings, now, transport)).items():
            sent[what] = sent.get(what, 0) + n

    def retry_now() -> None:
        for what, n in retry_due(new_run(settings, now, transport)).items():
            sent[what] = sent.get(what, 0) + n

    counts = tick(now, send_now, retry_now)
    return {**counts, **sent}
