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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import IntegrityError, PeeweeException

from companion.core.db import database, is_mysql, is_postgres, retries_deadlocks, write_transaction
from companion.core.settings import Settings
from companion.email.rendering import (
    RenderedEmail,
    for_substitution,
    personal_copy,
    render_email,
    shared_tracking,
    substitution_tag,
    tracking_for,
)
from companion.email.sendgrid import SendGridTransport, marketing_headers
from companion.flows import abtest, coupons, rules
from companion.flows.config import FlowConfig
from companion.flows.content import (
    Defer,
    NothingToShow,
    SkipStep,
    build_context,
    deferred_outcome,
    exit_reason,
    wait_for_completion,
)
from companion.flows.delivery import deliver
from companion.flows.enrolment import complete_if_finished, exit_enrolments, gap, keep_spacing
from companion.flows.run import SendRun
from companion.models import Contact, Enrolment, Message, MessageBody, ScheduledStep, Site

log = logging.getLogger(__name__)

SHOPPER_ACTIVE_DELAY = timedelta(hours=1)


def transport_for(settings: Settings) -> SendGridTransport | None:
    """SendGrid when a key is configured; None means outbox mode."""
    if not settings.sendgrid_api_key:
        return None
    return SendGridTransport(settings.sendgrid_api_key, host=settings.sendgrid_host)


@dataclass(frozen=True)
class Intent:
    step: ScheduledStep
    row: dict[str, Any]


def claim_steps(ids: list[int], now: datetime) -> tuple[str, list[ScheduledStep]]:
    """Take the due, pending steps among ids; a step another worker took is not returned."""
    token = secrets.token_hex(8)
    for start in range(0, len(ids), 500):
        ScheduledStep.update(status="claimed", claim_token=token, claimed_at=now).where(
            ScheduledStep.id.in_(ids[start : start + 500]),
            ScheduledStep.status == "pending",
            ScheduledStep.due_at <= now,
        ).execute()
    rows = (
        ScheduledStep.select(ScheduledStep, Enrolment)
        .join(Enrolment)
        .where(ScheduledStep.claim_token == token, ScheduledStep.status == "claimed")
        .order_by(ScheduledStep.id)
    )
    return token, list(rows)


def send_steps(ids: list[int], run: SendRun) -> dict[str, int]:
    """Claim and handle the given steps; answers what happened, by outcome."""
    token, steps = claim_steps(ids, run.now)
    return send_claimed(token, steps, run)


def send_claimed(token: str, steps: list[ScheduledStep], run: SendRun) -> dict[str, int]:
    """Handle steps this worker claimed with `token`: check and render each, record all intents
    in one transaction, then deliver them."""
    run.facts.load(
        [s.enrolment for s in steps],
        run.now,
        [run.configs.site(run.site(s.site_id)) for s in steps],
    )
    for enrolment_id, open_steps in earlier_steps_open(steps).items():
        run.memo["open steps", enrolment_id] = open_steps
    intents = [i for i in (_handle(step, token, run) for step in steps) if i is not None]
    recorded = record_intents(intents, token, run)
    if run.transport is not None and recorded:
        deliver(recorded, run)
    return run.counts


def _finish(
    step: ScheduledStep, token: str, status: str, outcome: str, run: SendRun
) -> Intent | None:
    """Close the step without a message (answers None, so handlers can `return _finish(...)`)."""
    ScheduledStep.update(status=status, outcome=outcome[:60], claim_token=None).where(
        ScheduledStep.id == step.id, ScheduledStep.claim_token == token
    ).execute()
    complete_if_finished(step.enrolment_id, run.now)
    run.count(status)
    return None


def _defer(
    step: ScheduledStep, token: str, until: datetime, reason: str, run: SendRun
) -> Intent | None:
    """Back to pending until `until`; the enrolment's later steps move along to keep their
    spacing."""
    deferred = (
        ScheduledStep.update(
            status="pending",
            due_at=until,
            outcome=deferred_outcome(reason),
            claim_token=None,
            claimed_at=None,
            enqueued_at=None,
            defer_count=ScheduledStep.defer_count + 1,
        )
        .where(ScheduledStep.id == step.id, ScheduledStep.claim_token == token)
        .execute()
    )
    if deferred:
        enrolment = step.enrolment
        keep_spacing(
            run.configs.flow(run.site(enrolment.site_id), enrolment.flow_key),
            [enrolment.id],
            step.step,
            until,
        )
    run.count("deferred")
    return None


def earlier_steps_open(steps: list[ScheduledStep]) -> dict[int, dict[int, datetime]]:
    """For enrolments of these steps: their steps not yet done (pending or claimed), by number,
    with when they fall due: a step must not go before the one ahead of it."""
    ids = sorted({s.enrolment_id for s in steps if s.step > 1})
    found: dict[int, dict[int, datetime]] = {}
    for start in range(0, len(ids), 500):
        for enrolment_id, number, due in (
            ScheduledStep.select(ScheduledStep.enrolment, ScheduledStep.step, ScheduledStep.due_at)
            .where(
                ScheduledStep.enrolment.in_(ids[start : start + 500]),
                ScheduledStep.status.in_(("pending", "claimed")),
            )
            .tuples()
        ):
            found.setdefault(enrolment_id, {})[number] = due
    return found


def _waits_for_earlier(step: ScheduledStep, flow: FlowConfig, run: SendRun) -> datetime | None:
    """When this step may go if a step ahead of it is still to be sent: that step's due time (now,
    if it goes in this batch) plus their spacing."""
    ahead = {
        n: due
        for n, due in run.memo.get(("open steps", step.enrolment_id), {}).items()
        if n < step.step
    }
    if not ahead:
        return None
    number = max(ahead)
    return max(ahead[number], run.now) + gap(flow, number, step.step)


def _handle(step: ScheduledStep, token: str, run: SendRun) -> Intent | None:
    enrolment = step.enrolment
    site = run.site(enrolment.site_id)
    flow = run.configs.flow(site, enrolment.flow_key)
    if enrolment.status != "active":
        return _finish(step, token, "cancelled", f"enrolment {enrolment.status}", run)
    if not flow.enabled or not flow.step(step.step).enabled:
        return _finish(
            step, token, "skipped", "flow disabled" if not flow.enabled else "step disabled", run
        )
    waits = _waits_for_earlier(step, flow, run)
    if waits is not None:
        return _defer(
            step,
            token,
            max(waits, run.now + timedelta(minutes=1)),
            "the step before goes first",
            run,
        )
    try:
        reason = exit_reason(enrolment, run.now)
    except Defer as wait:
        return _defer(step, token, wait.until or run.now + SHOPPER_ACTIVE_DELAY, wait.reason, run)
    if reason:
        exit_enrolments(site.id, Enrolment.id == enrolment.id, reason, run.now)
        return _finish(step, token, "cancelled", f"exit: {reason}", run)
    return _check(step, token, site, enrolment, flow, run)


def _check(
    step: ScheduledStep,
    token: str,
    site: Site,
    enrolment: Enrolment,
    flow: FlowConfig,
    run: SendRun,
) -> Intent | None:
    contact = run.facts.contacts.get(enrolment.contact_id)
    marketing = flow.definition.is_marketing_step(step.step)
    verdict = rules.check(
        site,
        run.configs.site(site),
        contact,
        marketing,
        run.now,
        run.facts,
        flow.definition.smart_sending,
    )
    if verdict.is_send and contact is not None:
        verdict = rules.once_per(contact, flow.definition.key, step.step, run.now, run.facts)
    if verdict.action != "skip":  # a step that may go waits for the order to be completed
        try:
            wait_for_completion(enrolment, step.step, flow, run.now)
        except Defer as wait:
            return _defer(step, token, wait.until or run.now, wait.reason, run)
        except SkipStep as skip:
            return _finish(step, token, "skipped", skip.reason, run)
    if verdict.action == "defer" and verdict.until:
        return _defer(step, token, verdict.until, verdict.reason, run)
    if verdict.action == "skip":
        if verdict.reason.startswith("suppressed") and (
            flow.definition.is_marketing or not marketing
        ):
            # a flow with transactional steps goes on to them after an unsubscribe
            exit_enrolments(site.id, Enrolment.id == enrolment.id, "unsubscribed", run.now)
        return _finish(step, token, "skipped", verdict.reason, run)
    assert contact is not None
    coupon = flow.extras.get("coupon")
    offered: dict[str, Any] | None = None
    if coupons.is_unique(coupon) and coupons.carries_coupon(flow.definition.key, step.step):
        try:  # the store makes the contact's code before their mail is written
            issued = coupons.issue(site, enrolment, contact, step.step, coupon, run.now)
        except coupons.CouponNotReady as exc:
            if exc.retry_at is not None:
                return _defer(step, token, exc.retry_at, exc.reason, run)
            return _finish(step, token, "skipped", exc.reason, run)
        offered = coupons.issued_view(issued, coupon, site)
    try:
        intent = Intent(step, _message_row(step, site, enrolment, contact, flow, run, offered))
    except NothingToShow as exc:  # a product mail with no product: the enrolment goes on without it
        return _finish(step, token, "skipped", str(exc), run)
    except ValueError as exc:  # the data a template needs is gone (order deleted, product unknown)
        log.warning("step %s of enrolment %s not rendered: %s", step.step, enrolment.id, exc)
        return _finish(step, token, "skipped", f"not rendered: {exc}", run)
    except PeeweeException:
        raise  # the database, not this message: the job fails and its claims are released later
    except Exception as exc:  # e.g. an owner's template stored before templates were checked
        # This message fails; the other contacts' mails of this batch go on.
        log.exception(
            "step %s of enrolment %s (%s) failed to render",
            step.step,
            enrolment.id,
            flow.definition.key,
        )
        return _finish(step, token, "failed", f"render failed: {type(exc).__name__}: {exc}", run)
    if marketing:
        run.facts.recent.setdefault(contact.id, []).append(run.now)
    run.facts.sent_step(contact.id, flow.definition.key, step.step, run.now)
    return intent


@dataclass(frozen=True)
class Draft:
    rendered: RenderedEmail
    unsubscribe_url: str
    substitutions: dict[str, str] | None = None


def _draft(
    site: Site,
    enrolment: Enrolment,
    contact: Contact,
    flow: FlowConfig,
    step: int,
    message_id: str,
    run: SendRun,
    coupon: dict[str, Any] | None = None,
    variant: str | None = None,
) -> Draft:
    if flow.definition.shared_body:
        return _shared_draft(site, enrolment, contact, flow, step, message_id, run, variant)
    tracking = tracking_for(run.public_url, run.secret, message_id)
    context = build_context(site, enrolment, contact, flow, step, run.now, run.memo, variant)
    if coupons.is_unique(flow.extras.get("coupon")):
        # the contact's own code on the step that offers it; no other step shows a made-up one
        context["coupon"] = coupon
    return Draft(
        render_email(
            flow.definition.key,
            step,
            context,
            **tracking.render_kwargs(),
            marketing=flow.definition.is_marketing_step(step),
        ),
        tracking.unsubscribe_url,
    )


def _shared_draft(
    site: Site,
    enrolment: Enrolment,
    contact: Contact,
    flow: FlowConfig,
    step: int,
    message_id: str,
    run: SendRun,
    variant: str | None = None,
) -> Draft:
    """Broadcast flows: one body per run (and subject variant), each recipient's name and links
    as substitutions."""
    key = (site.id, flow.definition.key, step, variant)
    if key not in run._shared:
        context = build_context(site, enrolment, contact, flow, step, run.now, run.memo, variant)
        context["contact"] = {"first_name": substitution_tag("first_name")}
        run._shared[key] = for_substitution(
            render_email(
                flow.definition.key,
                step,
                context,
                **shared_tracking(run.public_url).render_kwargs(),
                marketing=flow.definition.is_marketing_step(step),
            )
        )
    shared = run._shared[key]
    copy = personal_copy(
        shared,
        run.public_url,
        run.secret,
        message_id,
        {"first_name": contact.first_name or "there"},
    )
    return Draft(
        RenderedEmail(copy.subject, shared.html, shared.text, shared.links),
        copy.unsubscribe_url,
        copy.substitutions,
    )


def store_body(site_id: int, html: str, text: str, run: SendRun) -> int:
    digest = hashlib.sha256(f"{html}\0{text}".encode()).hexdigest()
    if (site_id, digest) not in run._bodies:
        MessageBody.insert(
            site=site_id, digest=digest, html=html, text=text
        ).on_conflict_ignore().execute()
        run._bodies[site_id, digest] = MessageBody.get(
            MessageBody.site == site_id, MessageBody.digest == digest
        ).id
    return run._bodies[site_id, digest]


def _message_row(
    step: ScheduledStep,
    site: Site,
    enrolment: Enrolment,
    contact: Contact,
    flow: FlowConfig,
    run: SendRun,
    coupon: dict[str, Any] | None = None,
) -> dict[str, Any]:
    message_id = str(uuid.uuid4())
    testing = abtest.is_testing(flow.step(step.step).subject_b)
    variant = abtest.variant_for(enrolment.id, step.step) if testing else None
    draft = _draft(site, enrolment, contact, flow, step.step, message_id, run, coupon, variant)
    marketing, sending = flow.definition.is_marketing_step(step.step), run.transport is not None
    return {
        "uuid": message_id,
        "site": site.id,
        "enrolment": enrolment.id,
        "step": step.step,
        "flow_key": flow.definition.key,
        "contact": contact.id,
        "to_email": contact.email,
        "to_name": " ".join(filter(None, [contact.first_name, contact.last_name])) or None,
        "from_email": flow.from_email,
        "from_name": flow.from_name,
        "reply_to": flow.reply_to,
        "subject": draft.rendered.subject,
        "variant": variant,
        "body": store_body(site.id, draft.rendered.html, draft.rendered.text, run),
        "substitutions": draft.substitutions,
        "links": draft.rendered.links,
        "is_marketing": marketing,
        "headers": marketing_headers(draft.unsubscribe_url) if marketing else {},
        "status": "sending" if sending else "outbox",
        "attempts": 1 if sending else 0,
        "created_at": run.now,
        "sending_since": run.now if sending else None,
    }


@retries_deadlocks
def record_intents(intents: list[Intent], token: str, run: SendRun) -> list[Message]:
    """Commit the messages and mark their steps done, before anything is handed to SendGrid. A
    step another worker recorded first (unique enrolment, step) is closed without a message."""
    if not intents:
        return []
    with write_transaction():
        intents = _still_claimed(intents, token)
        if not intents:
            return []
        try:
            with database.atomic():
                Message.insert_many([i.row for i in intents]).execute()
            recorded = intents
        except IntegrityError:
            recorded = [i for i in intents if _insert_one(i)]
        _close_steps(recorded, token, intents[0].row["status"], run)
        done = {i.step.id for i in recorded}
        _close_steps([i for i in intents if i.step.id not in done], token, "already sent", run)
    _space_next_steps(recorded, run)  # after the commit: it locks no row the recording needs
    return [Message(**i.row) for i in recorded]


def _still_claimed(intents: list[Intent], token: str) -> list[Intent]:
    """The intents whose step this worker still holds, locked until commit: a step an erase (or an
    exit) cancelled while it was being rendered gets no message, which would carry the address the
    erase just removed. Contacts are locked before steps, in the erase's order, so the two wait
    for each other instead of deadlocking on PostgreSQL and MariaDB."""
    query = ScheduledStep.select(ScheduledStep.id).where(
        ScheduledStep.id.in_([i.step.id for i in intents]),
        ScheduledStep.claim_token == token,
        ScheduledStep.status == "claimed",
    )
    if is_postgres() or is_mysql():
        contacts = Contact.select(Contact.id).where(
            Contact.id.in_(sorted({i.row["contact"] for i in intents}))
        )
        list(contacts.for_update("LOCK IN SHARE MODE" if is_mysql() else "FOR KEY SHARE"))
        query = query.for_update()
    held = {step_id for (step_id,) in query.tuples()}
    return [i for i in intents if i.step.id in held]


def _space_next_steps(intents: list[Intent], run: SendRun) -> None:
    """The steps after those just sent fall due no sooner than their spacing from now: one update
    per flow, step and later step (single-step flows, such as a VIP broadcast, need none)."""
    groups: dict[tuple[int, str, int], list[int]] = {}
    for intent in intents:
        key = (intent.row["site"], intent.row["flow_key"], intent.step.step)
        groups.setdefault(key, []).append(intent.step.enrolment_id)
    for (site_id, flow_key, number), enrolment_ids in groups.items():
        flow = run.configs.flow(run.site(site_id), flow_key)
        if number < len(flow.steps):
            keep_spacing(flow, enrolment_ids, number, run.now)


def _insert_one(intent: Intent) -> bool:
    try:
        with database.atomic():
            Message.insert(intent.row).execute()
        return True
    except IntegrityError:
        return False


def _close_steps(intents: list[Intent], token: str, outcome: str, run: SendRun) -> None:
    if not intents:
        return
    ScheduledStep.update(status="done", outcome=outcome, claim_token=None).where(
        ScheduledStep.id.in_([i.step.id for i in intents]), ScheduledStep.claim_token == token
    ).execute()
    last = [
        i.step.enrolment_id
        for i in intents
        if i.step.step == len(run.configs.flow(run.site(i.row["site"]), i.row["flow_key"]).steps)
    ]
    if last:
        Enrolment.update(status="completed", ended_at=run.now).where(
            Enrolment.id.in_(last), Enrolment.status == "active"
        ).execute()
    run.count("done", len(intents))
