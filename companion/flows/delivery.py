"""Hand recorded intents to SendGrid and record its answers; resend what it deferred.

Messages that share a body (broadcasts) go 1,000 to a request. Answers are recorded per group of
messages that got the same answer, with one conditional update (`status = 'sending'`), so an
answer never overwrites what SendGrid's events settled meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from companion.email.sendgrid import (
    OutgoingMessage,
    PermanentSendError,
    SendError,
    SendResult,
    TransientSendError,
)
from companion.flows.rules import blocks, quiet_until
from companion.flows.run import SendRun
from companion.metrics.attribution import record_cart_email
from companion.models import Enrolment, Message, MessageBody, Suppression

BACKOFF_S = (60, 300, 900, 3600, 3 * 3600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1


def outgoing(message: Message, body: MessageBody, site_public_id: str) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message.uuid,
        to_email=message.to_email,
        to_name=message.to_name or "",
        from_email=message.from_email,
        from_name=message.from_name or "",
        reply_to=message.reply_to,
        subject=message.subject,
        html=body.html,
        text=body.text,
        categories=[message.flow_key, f"{message.flow_key}:{message.step}"],
        custom_args={"flow": message.flow_key, "step": str(message.step), "site": site_public_id},
        headers=dict(message.headers or {}),
        substitutions=dict(message.substitutions or {}),
    )


def deliver(messages: Iterable[Message], run: SendRun) -> None:
    """Hand recorded intents to SendGrid (grouped: one request per shared body) and record
    answers."""
    messages = list(messages)
    bodies = {
        b.id: b
        for b in MessageBody.select().where(MessageBody.id.in_(list({m.body_id for m in messages})))
    }
    batch = [outgoing(m, bodies[m.body_id], run.site(m.site_id).public_id) for m in messages]
    outcomes = run.transport.send_batch(batch)
    record_outcomes(outcomes, {m.uuid: m for m in messages}, run)


def record_outcomes(
    outcomes: dict[str, SendResult | SendError], messages: dict[str, Message], run: SendRun
) -> None:
    groups: dict[tuple[int, int], list[Message]] = {}
    for message_id, outcome in outcomes.items():
        message = messages[message_id]
        groups.setdefault((id(outcome), message.attempts), []).append(message)
    for group in groups.values():
        outcome = outcomes[group[0].uuid]
        fields = outcome_fields(outcome, group[0].attempts, run.now)
        for start in range(0, len(group), 500):
            Message.update(**fields).where(
                Message.uuid.in_([m.uuid for m in group[start : start + 500]]),
                Message.status == "sending",
            ).execute()
        if fields["status"] == "sent":
            _record_cart_emails([m for m in group if m.flow_key == "abandoned_cart"], run.now)
        run.counts[fields["status"]] = run.counts.get(fields["status"], 0) + len(group)


def _record_cart_emails(messages: list[Message], now: datetime) -> None:
    """Tell attribution (the metrics feature) a cart email went out, for recovered revenue."""
    for message in messages:
        enrolment = Enrolment.get_or_none(Enrolment.id == message.enrolment_id)
        if enrolment is not None and enrolment.key.startswith("cart:"):
            record_cart_email(message.site_id, enrolment.key.removeprefix("cart:"), now)


def outcome_fields(outcome: SendResult | SendError, attempts: int, now: datetime) -> dict[str, Any]:
    if isinstance(outcome, SendResult):
        return {
            "status": "sent",
            "provider_id": outcome.provider_message_id,
            "sent_at": now,
            "error": None,
        }
    if isinstance(outcome, TransientSendError) and attempts < MAX_ATTEMPTS:
        wait = outcome.retry_after or BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1]
        return {
            "status": "retrying",
            "error": str(outcome)[:2000],
            "next_attempt_at": now + timedelta(seconds=wait),
        }
    reason = str(outcome) if isinstance(outcome, PermanentSendError) else f"gave up: {outcome}"
    return {"status": "failed", "error": reason[:2000]}


def retry_due(run: SendRun, limit: int = 500) -> dict[str, int]:
    """Send again the messages SendGrid refused for now (429, 5xx, timeout) once their wait is over;
    a marketing message whose retry falls in the site's quiet hours waits until they end."""
    due = list(
        Message.select(Message.id, Message.site, Message.is_marketing)
        .where(Message.status == "retrying", Message.next_attempt_at <= run.now)
        .order_by(Message.next_attempt_at)
        .limit(limit)
    )
    due = [m for m in due if not _held_by_quiet_hours(m, run)]
    taken = [
        m.id
        for m in due
        if Message.update(status="sending", sending_since=run.now, attempts=Message.attempts + 1)
        .where(Message.id == m.id, Message.status == "retrying")
        .execute()
    ]
    messages = [
        m for m in Message.select().where(Message.id.in_(taken or [0])) if not _suppressed_since(m)
    ]
    if messages and run.transport is not None:
        deliver(messages, run)
    return run.counts


def _held_by_quiet_hours(message: Message, run: SendRun) -> bool:
    if not message.is_marketing:
        return False
    site = run.site(message.site_id)
    until = quiet_until(site.timezone, run.configs.site(site).get("quiet_hours"), run.now)
    if until is None:
        return False
    Message.update(next_attempt_at=until).where(
        Message.id == message.id, Message.status == "retrying"
    ).execute()
    run.count("held")
    return True


def _suppressed_since(message: Message) -> bool:
    """An address unsubscribed, bounced or complained while its mail waited is not mailed."""
    reasons = [
        r
        for (r,) in Suppression.select(Suppression.reason)
        .where(Suppression.site == message.site_id, Suppression.email == message.to_email.lower())
        .tuples()
    ]
    if not any(blocks(reason, message.is_marketing) for reason in reasons):
        return False
    Message.update(status="failed", error="The address was suppressed before the retry.").where(
        Message.id == message.id, Message.status == "sending"
    ).execute()
    return True
