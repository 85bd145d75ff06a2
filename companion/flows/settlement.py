"""What SendGrid tells us afterwards, and the sends a worker could not finish.

Event Webhook entries carry our message uuid (custom arg `sc_message_id`): they settle a message
left `sending` or `uncertain` by a killed worker, and record delivery, bounces, spam reports and
unsubscribes (the last three suppress the address and end its enrolments). A message still
`sending` after SETTLE_AFTER with no event becomes `uncertain`: visible, and never sent again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from companion.email.sendgrid import EmailEvent
from companion.flows.definitions import FLOWS, marketing_flows
from companion.flows.enrolment import exit_contact
from companion.models import Message, ScheduledStep, Suppression
from companion.models.base import to_naive_utc

SETTLE_AFTER = timedelta(minutes=15)
CLAIM_TIMEOUT = timedelta(minutes=10)
UNSETTLED = ("sending", "uncertain", "retrying")
SUPPRESSING = {
    "bounce": "bounce",
    "dropped": "bounce",
    "spamreport": "complaint",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "unsubscribe",
}


def mark_uncertain(now: datetime) -> int:
    """Sends with no recorded answer for too long: SendGrid may have accepted them, so they are
    flagged for the owner instead of being sent twice."""
    return (
        Message.update(
            status="uncertain",
            error="The worker stopped before SendGrid's answer was "
            "recorded; not sent again. SendGrid's events settle it if it was accepted.",
        )
        .where(Message.status == "sending", Message.sending_since < now - SETTLE_AFTER)
        .execute()
    )


def release_stale_claims(now: datetime) -> int:
    """Steps claimed by a worker that died: back to pending unless their message was recorded."""
    stale = list(
        ScheduledStep.select(ScheduledStep.id, ScheduledStep.enrolment, ScheduledStep.step)
        .where(ScheduledStep.status == "claimed", ScheduledStep.claimed_at < now - CLAIM_TIMEOUT)
        .limit(5000)
    )
    released = 0
    for step in stale:
        sent = (
            Message.select()
            .where(Message.enrolment == step.enrolment_id, Message.step == step.step)
            .exists()
        )
        changes: dict[str, Any] = (
            {"status": "done", "outcome": "recorded before the worker stopped"}
            if sent
            else {"status": "pending", "claimed_at": None, "enqueued_at": None}
        )
        released += (
            ScheduledStep.update(claim_token=None, **changes)
            .where(ScheduledStep.id == step.id, ScheduledStep.status == "claimed")
            .execute()
        )
    return released


def apply_provider_events(events: Iterable[EmailEvent], now: datetime) -> dict[str, int]:
    """Apply Event Webhook entries to our messages; entries for unknown messages are ignored."""
    events = [e for e in events if e.message_id]
    messages = {
        m.uuid: m
        for m in Message.select().where(
            Message.uuid.in_(list({e.message_id for e in events}) or [""])
        )
    }
    counts = {"applied": 0, "ignored": 0}
    for event in sorted(events, key=lambda e: e.timestamp):
        message = messages.get(event.message_id or "")
        if message is None:
            counts["ignored"] += 1
            continue
        _apply(message, event, now)
        counts["applied"] += 1
    return counts


def _apply(message: Message, event: EmailEvent, now: datetime) -> None:
    at = to_naive_utc(event.timestamp)
    if message.status in UNSETTLED and event.event in (
        "processed",
        "delivered",
        "deferred",
        "open",
        "click",
        "bounce",
        "spamreport",
    ):
        provider = (event.sg_message_id or "").split(".")[0] or message.provider_id
        Message.update(
            status="sent", provider_id=provider, sent_at=message.sent_at or at, error=None
        ).where(Message.id == message.id, Message.status.in_(UNSETTLED)).execute()
    stamp = {
        "delivered": Message.delivered_at,
        "bounce": Message.bounced_at,
        "dropped": Message.bounced_at,
        "spamreport": Message.complained_at,
        "unsubscribe": Message.unsubscribed_at,
        "group_unsubscribe": Message.unsubscribed_at,
    }.get(event.event)
    if stamp is not None:
        Message.update({stamp: at}).where(Message.id == message.id, stamp.is_null()).execute()
    if event.event == "dropped":
        Message.update(status="failed", error=f"dropped by SendGrid: {event.reason}"[:2000]).where(
            Message.id == message.id
        ).execute()
    reason = SUPPRESSING.get(event.event)
    if reason and not (event.event == "bounce" and event.bounce_type == "blocked"):
        suppress(message.site_id, message.to_email, reason, message.id, now)
        if message.contact_id:
            ended = marketing_flows() if reason == "unsubscribe" else list(FLOWS)
            exit_contact(message.site_id, [message.contact_id], ended, reason, now)


def suppress(site_id: int, email: str, reason: str, message_id: int | None, now: datetime) -> None:
    Suppression.insert(
        site=site_id, email=email.lower(), reason=reason, message=message_id, created_at=now
    ).on_conflict_ignore().execute()
