"""A person's data on request (DESIGN 3.3): export everything stored about an email, or erase it.

Erasing keeps the shop's history whole: orders, items and refunds stay, linked to a contact whose
personal fields are blanked and whose address becomes an `erased-...@erased.invalid` placeholder,
so totals, roll-ups and a rebuild from the raw tables give the same figures. The address itself
survives only as a keyed hash on a suppression, so a returning unsubscriber stays unsubscribed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import operator
import re
import secrets
from datetime import datetime
from functools import reduce
from typing import Any

from peewee import CharField, Field, TextField, fn

from companion.core import runtime
from companion.core.bulk import among
from companion.core.db import retry_deadlocks, write_transaction
from companion.ingest.batch import Batch
from companion.models import (
    BaseModel,
    Cart,
    Contact,
    DeadLetter,
    EmailTouch,
    Enrolment,
    FlowSetting,
    ImportCheckpoint,
    Message,
    MessageBody,
    Order,
    OrderItem,
    ProductView,
    RawEvent,
    Refund,
    ScheduledStep,
    Subscription,
    Suppression,
    Visit,
    Visitor,
)
from companion.models.base import as_aware
from companion.models.messaging import OPEN_ENROLMENT

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never be a real mailbox
HASH_PREFIX = "erased:"
SCRUBBED = "[erased]"
PERSONAL_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "wp_user_id",
    "marketing_consent",
    "consent_updated_at",
)


def normalise(email: str) -> str:
    return email.strip().lower()


def _contact(site_id: int, email: str) -> Contact | None:
    return Contact.get_or_none(
        Contact.site == site_id, Contact.email == email, Contact.erased_at.is_null()
    )


# --- export -------------------------------------------------------------------------------------


def export_person(site_id: int, email: str) -> dict[str, Any]:
    """Everything stored about the address on this site; empty lists (and no contact) if nothing."""
    email = normalise(email)
    contact = _contact(site_id, email)
    data: dict[str, Any] = {
        "email": email,
        "contact": None,
        "orders": [],
        "carts": [],
        "product_views": [],
        "visits": [],
        "subscriptions": [],
        "messages": [],
        "email_touches": [],
    }
    if contact is not None:
        data.update(
            contact=_contact_fields(contact),
            orders=_orders(contact),
            carts=_linked(Cart, contact, Cart.created_at),
            visits=_linked(Visit, contact, Visit.started_at),
            product_views=_linked(ProductView, contact, ProductView.occurred_at),
            subscriptions=_linked(Subscription, contact, Subscription.updated_at),
            email_touches=_linked(EmailTouch, contact, EmailTouch.occurred_at),
        )
    data["messages"] = _messages(site_id, email, contact)
    data["suppressions"] = _aware_rows(
        Suppression.select().where(Suppression.site == site_id, Suppression.email == email).dicts()
    )
    return data


def _contact_fields(contact: Contact) -> dict[str, Any]:
    row = {
        name: getattr(contact, name)
        for name in (
            "email",
            *PERSONAL_FIELDS,
            "created_at",
            "updated_at",
            "orders_count",
            "total_spent",
            "refunded",
            "first_order_at",
            "last_order_at",
            "stage",
            "stage_reason",
            "rfm_r",
            "rfm_f",
            "rfm_m",
            "rfm_segment",
            "p_alive",
            "expected_purchases_90",
            "expected_purchases_365",
            "expected_next_order_at",
            "predicted_clv_365",
        )
    }
    return _aware(row)


def _orders(contact: Contact) -> list[dict[str, Any]]:
    orders = _aware_rows(
        Order.select()
        .where(Order.site == contact.site_id, Order.contact == contact.id)
        .order_by(Order.created_at)
        .dicts()
    )
    ids = [o["id"] for o in orders]
    items: dict[int, list[dict[str, Any]]] = {}
    refunds: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for item in (
            OrderItem.select().where(OrderItem.order.in_(chunk)).order_by(OrderItem.id).dicts()
        ):
            items.setdefault(item["order"], []).append(item)
        for refund in (
            Refund.select().where(Refund.order.in_(chunk)).order_by(Refund.created_at).dicts()
        ):
            refunds.setdefault(refund["order"], []).append(_aware(refund))
    for order in orders:
        order["items"], order["refunds"] = items.get(order["id"], []), refunds.get(order["id"], [])
    return orders


def _linked(model: Any, contact: Contact, order_by: Any) -> list[dict[str, Any]]:
    return _aware_rows(
        model.select()
        .where(model.site == contact.site_id, model.contact == contact.id)
        .order_by(order_by)
        .dicts()
    )


def _messages(site_id: int, email: str, contact: Contact | None) -> list[dict[str, Any]]:
    return _aware_rows(
        Message.select()
        .where(Message.site == site_id, _message_match(email, contact))
        .order_by(Message.created_at, Message.id)
        .dicts()
    )


def _message_match(email: str, contact: Contact | None) -> Any:
    match = fn.LOWER(Message.to_email) == email
    return match | (Message.contact == contact.id) if contact is not None else match


def _aware_rows(rows: Any) -> list[dict[str, Any]]:
    return [_aware(row) for row in rows]


def _aware(row: dict[str, Any]) -> dict[str, Any]:
    return {k: as_aware(v) if isinstance(v, datetime) else v for k, v in row.items()}


# --- erase --------------------------------------------------------------------------------------


def erase_person(site_id: int, email: str, secret_key: str, now: datetime) -> dict[str, int]:
    """Remove the address's personal data from every table of the site, in one transaction, as of
    `now` (the request's clock); answers how many rows of each kind changed (all zero when there was
    nothing, e.g. a repeat)."""
    email = normalise(email)
    return retry_deadlocks(lambda: _erase(site_id, email, secret_key, now))


def _erase(site_id: int, email: str, secret_key: str, now: datetime) -> dict[str, int]:
    with write_transaction():
        contact = _contact(site_id, email)
        counts = (
            _erase_contact(contact, now)
            if contact is not None
            else dict.fromkeys(_CONTACT_KINDS, 0)
        )
        counts["messages"], counts["message_bodies"] = _erase_messages(site_id, email, contact)
        counts["suppressions"] = _hash_suppressions(site_id, email, secret_key)
        placeholder = contact.email if contact is not None else _placeholder()
        counts["raw_events"] = _scrub_payloads(RawEvent, site_id, email, placeholder)
        if contact is None and counts["raw_events"]:
            _reserve_placeholder(site_id, placeholder, now)
        counts["dead_letters"] = _scrub_payloads(DeadLetter, site_id, email, placeholder)
        counts["other_mentions"] = _scrub_mentions(site_id, email, placeholder)
    return counts


_CONTACT_KINDS = (
    "contacts",
    "orders",
    "carts",
    "product_views",
    "visits",
    "visitors",
    "subscriptions",
    "enrolments",
    "scheduled_steps",
)


def _placeholder() -> str:
    return f"erased-{secrets.token_hex(12)}@{ERASED_DOMAIN}"


def _reserve_placeholder(site_id: int, placeholder: str, now: datetime) -> None:
    """Events not applied yet now name the placeholder; when they are, they find an erased contact
    (hidden everywhere) instead of creating a visible one."""
    Contact.insert(
        site=site_id, email=placeholder, created_at=now, updated_at=now, erased_at=now
    ).execute()


def _erase_contact(contact: Contact, now: datetime) -> dict[str, int]:
    site_id, cid = contact.site_id, contact.id
    blanks: dict[str, Any] = dict.fromkeys(PERSONAL_FIELDS)
    contacts = (
        Contact.update(email=_placeholder(), erased_at=now, updated_at=now, **blanks)
        .where(Contact.id == cid)
        .execute()
    )
    contact.email = Contact.get_by_id(cid).email
    return {
        "contacts": contacts,
        "orders": Order.select().where(Order.site == site_id, Order.contact == cid).count(),
        "carts": _unlink(Cart, site_id, cid, checkout_url=None),
        "product_views": _unlink(ProductView, site_id, cid),
        "visits": _unlink(Visit, site_id, cid),
        "visitors": _unlink(Visitor, site_id, cid),
        "subscriptions": _unlink(Subscription, site_id, cid, renewal_url=None),
        **_end_enrolments(site_id, cid, now),
    }


def _unlink(model: Any, site_id: int, contact_id: int, **extra: Any) -> int:
    return (
        model.update(contact=None, **extra)
        .where(model.site == site_id, model.contact == contact_id)
        .execute()
    )


def _end_enrolments(site_id: int, contact_id: int, now: datetime) -> dict[str, int]:
    """The contact row stays (orders point at it), so its flows are ended and their context
    dropped."""
    ids = [
        e.id
        for e in Enrolment.select(Enrolment.id).where(
            Enrolment.site == site_id, Enrolment.contact == contact_id
        )
    ]
    if not ids:
        return {"enrolments": 0, "scheduled_steps": 0}
    steps = (
        ScheduledStep.update(status="cancelled", outcome="erased")
        .where(ScheduledStep.enrolment.in_(ids), ScheduledStep.status.in_(("pending", "claimed")))
        .execute()
    )
    Enrolment.update(status="exited", exit_reason="erased", ended_at=now).where(
        Enrolment.id.in_(ids), Enrolment.status.in_(OPEN_ENROLMENT)
    ).execute()
    Enrolment.update(context=None).where(Enrolment.id.in_(ids)).execute()
    return {"enrolments": len(ids), "scheduled_steps": steps}


def _erase_messages(site_id: int, email: str, contact: Contact | None) -> tuple[int, int]:
    """Addresses, names and rendered bodies go; status, times and counts stay for the reports."""
    rows = list(
        Message.select(Message.id, Message.body, Message.subject, Message.to_name).where(
            Message.site == site_id, _message_match(email, contact)
        )
    )
    if not rows:
        return 0, 0
    ids, bodies = [m.id for m in rows], {m.body_id for m in rows}
    known = [contact.first_name, contact.last_name] if contact is not None else []
    for row in rows:
        subject = _without_names(row.subject, [*known, *(row.to_name or "").split()])
        if subject != row.subject:
            Message.update(subject=subject).where(Message.id == row.id).execute()
    blank = _blank_body(site_id)
    bodies.discard(blank)
    Message.update(
        to_email=f"erased@{ERASED_DOMAIN}",
        to_name=None,
        substitutions=None,
        headers=None,
        body=blank,
    ).where(Message.id.in_(ids)).execute()
    unused = [b for b in bodies if not Message.select().where(Message.body == b).exists()]
    removed = MessageBody.delete().where(MessageBody.id.in_(unused)).execute() if unused else 0
    return len(ids), removed


def _without_names(subject: str | None, names: list[str | None]) -> str | None:
    """A subject that greeted the person ("How do you like your order, Ann?") without their
    names."""
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        if subject:
            subject = re.sub(
                rf"(?<!\w){re.escape(name)}(?!\w)", SCRUBBED, subject, flags=re.IGNORECASE
            )
    return subject


def _blank_body(site_id: int) -> int:
    """One empty body per site that erased messages point at (a message must have a body)."""
    MessageBody.insert(
        site=site_id, digest="erased", html="", text=""
    ).on_conflict_ignore().execute()
    return MessageBody.get(MessageBody.site == site_id, MessageBody.digest == "erased").id


# --- suppressions -------------------------------------------------------------------------------


def suppression_key(secret_key: str, site_id: int, email: str) -> str:
    """A keyed hash: equal for the same address on the same site, useless without the secret."""
    digest = hmac.new(secret_key.encode(), f"{site_id}:{normalise(email)}".encode(), hashlib.sha256)
    return HASH_PREFIX + digest.hexdigest()


def _hash_suppressions(site_id: int, email: str, secret_key: str) -> int:
    key = suppression_key(secret_key, site_id, email)
    if Suppression.select().where(Suppression.site == site_id, Suppression.email == key).exists():
        return (
            Suppression.delete()
            .where(Suppression.site == site_id, Suppression.email == email)
            .execute()
        )
    return (
        Suppression.update(email=key, message=None)
        .where(Suppression.site == site_id, Suppression.email == email)
        .execute()
    )


def resuppress_returning(batch: Batch) -> None:
    """After a batch: an erased, suppressed address that shows up again is suppressed again by name,
    before any flow considers it (the flows look suppressions up by plain address)."""
    if not batch.contact_ids:
        return
    secret = runtime.settings().secret_key
    keys = {suppression_key(secret, batch.site_id, email): email for email in batch.contact_ids}
    for row in Suppression.select().where(
        Suppression.site == batch.site_id, among(Suppression.email, list(keys))
    ):
        if (
            not Suppression.select()
            .where(Suppression.site == batch.site_id, Suppression.email == keys[row.email])
            .exists()
        ):
            Suppression.update(email=keys[row.email]).where(Suppression.id == row.id).execute()


# --- raw events and dead letters ----------------------------------------------------------------


def _scrub_payloads(model: Any, site_id: int, email: str, placeholder: str) -> int:
    """Stored payloads that mention the address: the contact block keeps only the placeholder
    address (so a replay still links the orders to the anonymised contact); other mentions go.
    LIKE only narrows the rows down; a row changes only where the address stands whole."""
    changed = 0
    for row in model.select().where(model.site == site_id, fn.LOWER(model.payload).contains(email)):
        payload = _scrub_payload(row.payload, email, placeholder)
        updates = {"payload": payload} if payload is not None else {}
        for name in ("reason", "error"):
            text = getattr(row, name, None)
            if text and _scrub_text(text, email) != text:
                updates[name] = _scrub_text(text, email)
        if updates:
            changed += model.update(**updates).where(model.id == row.id).execute()
    return changed


def _scrub_payload(payload: str, email: str, placeholder: str) -> str | None:
    """The payload without the address, or None if it does not hold the address as a whole."""
    try:
        data = json.loads(payload)
    except ValueError:
        text = _scrub_text(payload, email)
        return text if text != payload else None
    scrubbed = _scrub_value(data, email, placeholder)
    return json.dumps(scrubbed, separators=(",", ":")) if scrubbed != data else None


def _scrub_value(value: Any, email: str, placeholder: str) -> Any:
    if isinstance(value, dict):
        if isinstance(value.get("contact"), dict) and _mentions(value["contact"], email):
            value = {**value, "contact": {"email": placeholder}}
        return {k: _scrub_value(v, email, placeholder) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v, email, placeholder) for v in value]
    return _scrub_text(value, email) if isinstance(value, str) else value


def _mentions(block: dict[str, Any], email: str) -> bool:
    return isinstance(block.get("email"), str) and normalise(block["email"]) == email


def _scrub_text(text: str, email: str) -> str:
    return _address(email).sub(SCRUBBED, text)


def _address(email: str) -> re.Pattern[str]:
    """The address standing whole: not the tail of a longer local part (`joann7@` for `ann7@`,
    `umar.novak354@` for `novak354@`) nor the head of a longer domain (`example.com.au`); a
    sentence's full stop after it does not protect it."""
    return re.compile(
        rf"(?<![A-Za-z0-9._%+-]){re.escape(email)}(?![A-Za-z0-9-]|\.[A-Za-z0-9-])", re.IGNORECASE
    )


# --- anything else ------------------------------------------------------------------------------


def _scrub_mentions(site_id: int, email: str, placeholder: str) -> int:
    """The address wherever else free text holds it as a whole address (a landing URL with ?email=,
    a link, an error, a refund reason); one pass per table, all its text columns at once, since no
    index helps a substring search. LIKE only narrows the rows down; the pattern decides."""
    changed = 0
    for model, fields in _text_columns():
        key = model._meta.primary_key
        mentions = [fn.LOWER(field).contains(email) for field in fields]
        for row in model.select(key, *fields).where(
            model.site == site_id, reduce(operator.or_, mentions)
        ):
            updates = {f: _scrub_value(getattr(row, f.name), email, placeholder) for f in fields}
            updates = {f: v for f, v in updates.items() if v != getattr(row, f.name)}
            if updates:
                changed += model.update(updates).where(key == getattr(row, key.name)).execute()
    return changed


# Not free text: a person's own address is matched exactly where it is an identity (the contact,
# a suppression, a message's recipient: handled above by site and address or contact id), and the
# shop's settings and the sender it mails from are the shop's, never a customer's data.
_NOT_FREE_TEXT = {
    (Contact, "email"),
    (Suppression, "email"),
    (Message, "to_email"),
    (Message, "from_email"),
    (Message, "reply_to"),
}
_NOT_SCANNED = (
    FlowSetting,
    ImportCheckpoint,
    RawEvent,
    DeadLetter,
)  # raw events, dead letters: above


def _text_columns() -> list[tuple[Any, list[Field]]]:
    """Every free-text column of every per-site table (short codes and ids cannot hold an address).
    The sites table itself (its options) has no site column, so it is never among them."""
    columns: list[tuple[Any, list[Field]]] = []
    for model in _models(BaseModel):
        if "site" not in model._meta.fields or model in _NOT_SCANNED:
            continue
        fields = [
            field
            for field in model._meta.sorted_fields
            if (
                isinstance(field, TextField)
                or (isinstance(field, CharField) and field.max_length >= 100)
            )
            and (model, field.name) not in _NOT_FREE_TEXT
        ]
        if fields:
            columns.append((model, fields))
    return columns


def _models(base: Any) -> list[Any]:
    found = []
    for sub in base.__subclasses__():
        if sub._meta.table_name and "Meta" not in sub.__name__:
            found.append(sub)
        found.extend(_models(sub))
    return list(dict.fromkeys(found))
