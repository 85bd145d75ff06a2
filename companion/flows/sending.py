"""Send due steps: claim, check, record the intent, hand to SendGrid, record the outcome.

At most one message per (enrolment, step): a step is claimed by a conditional update, and the
message row (unique per enrolment and step, our uuid in SendGrid's custom args) is committed,
together with the step marked done, before SendGrid is called. A worker killed after SendGrid
accepted leaves the message `sending`; settlement.py settles it from SendGrid's events or marks it
`uncertain`, and nothing sends it again. Without a SendGrid key the message stays in the outbox.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from peewee import IntegrityError

from companion.db import database
from companion.email import (
    OutgoingMessage,
    PermanentSendError,
    SendError,
    SendGridTransport,
    SendResult,
    TransientSendError,
    marketing_headers,
)
from companion.flows import rules
from companion.flows.config import Configs, FlowConfig
from companion.flows.content import Defer, build_context, exit_reason
from companion.flows.enrolment import complete_if_finished, exit_enrolments
from companion.metrics.attribution import record_cart_email
from companion.models import Contact, Enrolment, Message, MessageBody, ScheduledStep, Site
from companion.rendering import (
    RenderedEmail,
    for_substitution,
    personal_copy,
    render_email,
    shared_tracking,
    substitution_tag,
    tracking_for,
)
from companion.settings import Settings

log = logging.getLogger(__name__)

SHOPPER_ACTIVE_DELAY = timedelta(hours=1)
BACKOFF_S = (60, 300, 900, 3600, 3 * 3600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1


def transport_for(settings: Settings) -> SendGridTransport | None:
    """SendGrid when a key is configured; None means outbox mode."""
    if not settings.sendgrid_api_key:
        return None
    return SendGridTransport(settings.sendgrid_api_key, host=settings.sendgrid_host)


@dataclass
class SendRun:
    """One worker's pass over a set of due steps, with what it reads once."""

    now: datetime
    public_url: str
    secret: bytes
    transport: Any  # SendGridTransport, a stand-in with send_batch, or None for the outbox
    configs: Configs = field(default_factory=Configs)
    counts: dict[str, int] = field(default_factory=dict)
    _sites: dict[int, Site] = field(default_factory=dict)
    _shared: dict[tuple[int, str, int], RenderedEmail] = field(default_factory=dict)

    def site(self, site_id: int) -> Site:
        if site_id not in self._sites:
            self._sites[site_id] = Site.get_by_id(site_id)
        return self._sites[site_id]

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def claim_steps(ids: list[int], now: datetime) -> tuple[str, list[ScheduledStep]]:
    """Take the due, pending steps among ids; a step another worker took is not returned."""
    token = secrets.token_hex(8)
    for start in range(0, len(ids), 500):
        ScheduledStep.update(status="claimed", claim_token=token, claimed_at=now).where(
            ScheduledStep.id.in_(ids[start:start + 500]), ScheduledStep.status == "pending",
            ScheduledStep.due_at <= now).execute()
    rows = (ScheduledStep.select(ScheduledStep, Enrolment).join(Enrolment)
            .where(ScheduledStep.claim_token == token, ScheduledStep.status == "claimed")
            .order_by(ScheduledStep.id))
    return token, list(rows)


def send_steps(ids: list[int], run: SendRun) -> dict[str, int]:
    """Claim and handle the given steps; answers what happened, by outcome."""
    token, steps = claim_steps(ids, run.now)
    return send_claimed(token, steps, run)


def send_claimed(token: str, steps: list[ScheduledStep], run: SendRun) -> dict[str, int]:
    """Handle steps this worker claimed with `token`: record each intent, then deliver them."""
    intents = [m for m in (_handle(step, token, run) for step in steps) if m is not None]
    if run.transport is not None and intents:
        deliver(intents, run)
    return run.counts


def _finish(step: ScheduledStep, token: str, status: str, outcome: str, run: SendRun) -> Message | None:
    """Close the step without a message (answers None, so handlers can `return _finish(...)`)."""
    ScheduledStep.update(status=status, outcome=outcome[:60], claim_token=None).where(
        ScheduledStep.id == step.id, ScheduledStep.claim_token == token).execute()
    complete_if_finished(step.enrolment_id, run.now)
    run.count(status)
    return None


def _defer(step: ScheduledStep, token: str, until: datetime, reason: str, run: SendRun) -> Message | None:
    ScheduledStep.update(status="pending", due_at=until, outcome=f"deferred: {reason}"[:60], claim_token=None,
                         claimed_at=None, enqueued_at=None, defer_count=ScheduledStep.defer_count + 1).where(
        ScheduledStep.id == step.id, ScheduledStep.claim_token == token).execute()
    run.count("deferred")
    return None


def _handle(step: ScheduledStep, token: str, run: SendRun) -> Message | None:
    enrolment = step.enrolment
    site = run.site(enrolment.site_id)
    flow = run.configs.flow(site, enrolment.flow_key)
    if enrolment.status != "active":
        return _finish(step, token, "cancelled", f"enrolment {enrolment.status}", run)
    if not flow.enabled or not flow.step(step.step).enabled:
        return _finish(step, token, "skipped", "flow disabled" if not flow.enabled else "step disabled", run)
    try:
        reason = exit_reason(enrolment, run.now)
    except Defer:
        return _defer(step, token, run.now + SHOPPER_ACTIVE_DELAY, "shopper active", run)
    if reason:
        exit_enrolments(site.id, Enrolment.id == enrolment.id, reason, run.now)
        return _finish(step, token, "cancelled", f"exit: {reason}", run)
    return _check_and_record(step, token, site, enrolment, flow, run)


def _check_and_record(step: ScheduledStep, token: str, site: Site, enrolment: Enrolment, flow: FlowConfig,
                      run: SendRun) -> Message | None:
    contact = Contact.get_or_none(Contact.id == enrolment.contact_id)
    verdict = rules.check(site, run.configs.site(site), contact, flow.definition.is_marketing, run.now)
    if verdict.action == "defer" and verdict.until:
        return _defer(step, token, verdict.until, verdict.reason, run)
    if verdict.action == "skip":
        if verdict.reason.startswith("suppressed"):
            exit_enrolments(site.id, Enrolment.id == enrolment.id, "unsubscribed", run.now)
        return _finish(step, token, "skipped", verdict.reason, run)
    assert contact is not None
    try:
        return _record_intent(step, token, site, enrolment, contact, flow, run)
    except ValueError as exc:  # the data a template needs is gone (order deleted, product unknown)
        log.warning("step %s of enrolment %s not rendered: %s", step.step, enrolment.id, exc)
        return _finish(step, token, "skipped", f"not rendered: {exc}", run)


@dataclass(frozen=True)
class Draft:
    rendered: RenderedEmail
    unsubscribe_url: str
    substitutions: dict[str, str] | None = None


def _draft(site: Site, enrolment: Enrolment, contact: Contact, flow: FlowConfig, step: int, message_id: str,
           run: SendRun) -> Draft:
    if flow.definition.shared_body:
        return _shared_draft(site, enrolment, contact, flow, step, message_id, run)
    tracking = tracking_for(run.public_url, run.secret, message_id)
    context = build_context(site, enrolment, contact, flow, step, run.now)
    return Draft(render_email(flow.definition.key, step, context, **tracking.render_kwargs()),
                 tracking.unsubscribe_url)


def _shared_draft(site: Site, enrolment: Enrolment, contact: Contact, flow: FlowConfig, step: int,
                  message_id: str, run: SendRun) -> Draft:
    """Broadcast flows: one body per run, each recipient's name and links as substitutions."""
    key = (site.id, flow.definition.key, step)
    if key not in run._shared:
        context = build_context(site, enrolment, contact, flow, step, run.now)
        context["contact"] = {"first_name": substitution_tag("first_name")}
        run._shared[key] = for_substitution(render_email(
            flow.definition.key, step, context, **shared_tracking(run.public_url).render_kwargs()))
    shared = run._shared[key]
    copy = personal_copy(shared, run.public_url, run.secret, message_id,
                         {"first_name": contact.first_name or "there"})
    return Draft(RenderedEmail(copy.subject, shared.html, shared.text, shared.links),
                 copy.unsubscribe_url, copy.substitutions)


def store_body(site_id: int, html: str, text: str) -> int:
    digest = hashlib.sha256(f"{html}\0{text}".encode()).hexdigest()
    MessageBody.insert(site=site_id, digest=digest, html=html, text=text).on_conflict_ignore().execute()
    return MessageBody.get(MessageBody.site == site_id, MessageBody.digest == digest).id


def _record_intent(step: ScheduledStep, token: str, site: Site, enrolment: Enrolment, contact: Contact,
                   flow: FlowConfig, run: SendRun) -> Message | None:
    message_id = str(uuid.uuid4())
    draft = _draft(site, enrolment, contact, flow, step.step, message_id, run)
    marketing = flow.definition.is_marketing
    status = "sending" if run.transport is not None else "outbox"
    with database.atomic():
        row = {"uuid": message_id, "site": site.id, "enrolment": enrolment.id, "step": step.step,
               "flow_key": flow.definition.key, "contact": contact.id, "to_email": contact.email,
               "to_name": " ".join(filter(None, [contact.first_name, contact.last_name])) or None,
               "from_email": flow.from_email, "from_name": flow.from_name, "reply_to": flow.reply_to,
               "subject": draft.rendered.subject, "body": store_body(site.id, draft.rendered.html, draft.rendered.text),
               "substitutions": draft.substitutions, "links": draft.rendered.links, "is_marketing": marketing,
               "headers": marketing_headers(draft.unsubscribe_url) if marketing else {},
               "status": status, "attempts": 1 if status == "sending" else 0, "created_at": run.now,
               "sending_since": run.now if status == "sending" else None}
        try:
            with database.atomic():
                Message.insert(row).execute()
        except IntegrityError:  # another worker recorded this step first
            _finish(step, token, "done", "already sent", run)
            return None
        _finish(step, token, "done", status, run)
    return Message(**row)


# --- delivery ----------------------------------------------------------------------------------


def outgoing(message: Message, body: MessageBody, site_public_id: str) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message.uuid, to_email=message.to_email, to_name=message.to_name or "",
        from_email=message.from_email, from_name=message.from_name or "", reply_to=message.reply_to,
        subject=message.subject, html=body.html, text=body.text,
        categories=[message.flow_key, f"{message.flow_key}:{message.step}"],
        custom_args={"flow": message.flow_key, "step": str(message.step), "site": site_public_id},
        headers=dict(message.headers or {}), substitutions=dict(message.substitutions or {}))


def deliver(messages: Iterable[Message], run: SendRun) -> None:
    """Hand recorded intents to SendGrid (grouped: one request per shared body) and record answers."""
    messages = list(messages)
    bodies = {b.id: b for b in MessageBody.select().where(
        MessageBody.id.in_(list({m.body_id for m in messages})))}
    batch = [outgoing(m, bodies[m.body_id], run.site(m.site_id).public_id) for m in messages]
    outcomes = run.transport.send_batch(batch)
    record_outcomes(outcomes, {m.uuid: m for m in messages}, run)


def record_outcomes(outcomes: dict[str, SendResult | SendError], messages: dict[str, Message],
                    run: SendRun) -> None:
    for message_id, outcome in outcomes.items():
        message = messages[message_id]
        fields = _outcome_fields(outcome, message, run.now)
        changed = Message.update(**fields).where(Message.uuid == message_id, Message.status == "sending").execute()
        if changed and fields["status"] == "sent" and message.flow_key == "abandoned_cart":
            _record_cart_email(message, run.now)
        run.count(fields["status"])


def _record_cart_email(message: Message, now: datetime) -> None:
    """Tell attribution (the metrics feature) a cart email went out, for recovered revenue."""
    enrolment = Enrolment.get_or_none(Enrolment.id == message.enrolment_id)
    if enrolment is not None and enrolment.key.startswith("cart:"):
        record_cart_email(message.site_id, enrolment.key.removeprefix("cart:"), now)


def _outcome_fields(outcome: SendResult | SendError, message: Message, now: datetime) -> dict[str, Any]:
    if isinstance(outcome, SendResult):
        return {"status": "sent", "provider_id": outcome.provider_message_id, "sent_at": now, "error": None}
    if isinstance(outcome, TransientSendError) and message.attempts < MAX_ATTEMPTS:
        wait = outcome.retry_after or BACKOFF_S[min(message.attempts, len(BACKOFF_S)) - 1]
        return {"status": "retrying", "error": str(outcome)[:2000],
                "next_attempt_at": now + timedelta(seconds=wait)}
    reason = str(outcome) if isinstance(outcome, PermanentSendError) else f"gave up: {outcome}"
    return {"status": "failed", "error": reason[:2000]}


def retry_due(run: SendRun, limit: int = 500) -> dict[str, int]:
    """Send again the messages SendGrid refused for now (429, 5xx, timeout) once their wait is over."""
    due = list(Message.select(Message.id).where(Message.status == "retrying", Message.next_attempt_at <= run.now)
               .order_by(Message.next_attempt_at).limit(limit))
    taken = [m.id for m in due if Message.update(
        status="sending", sending_since=run.now, attempts=Message.attempts + 1).where(
        Message.id == m.id, Message.status == "retrying").execute()]
    if taken and run.transport is not None:
        deliver(Message.select().where(Message.id.in_(taken)), run)
    return run.counts
