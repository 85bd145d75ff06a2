"""Contacts: one per site and lower-cased email, their identity stitching and running totals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from peewee import SQL, Case, fn

from companion.core.bulk import among, insert_rows, update_by_id
from companion.core.db import database, is_mysql, is_postgres, unindexed
from companion.ingest.batch import Batch, ContactFacts, Event
from companion.models import Contact, Order, ProductView, Refund, Visit, Visitor
from companion.models.base import money_from_units, to_units

PROFILE_FIELDS = ("first_name", "last_name", "phone", "wp_user_id")
# what resolving reads of a known contact (not its ~40 scores and totals)
LOADED = (
    Contact.id,
    Contact.email,
    Contact.updated_at,
    Contact.consent_updated_at,
    *(getattr(Contact, f) for f in PROFILE_FIELDS),
)
TOTALS = (
    "orders_count",
    "total_spent",
    "refunded",
    "first_order_at",
    "last_order_at",
    "first_order_total",
    "first_order_id",
    "last_refund_at",
)


def resolve_contacts(batch: Batch) -> None:
    """Find or create the contact of every email in the batch; merge what the events say."""
    said: dict[str, list[Event]] = {}
    for event in sorted(batch.events, key=lambda e: (e.occurred_at, e.seq)):
        if event.email:
            said.setdefault(event.email, []).append(event)
    if not said:
        return
    existing = _load(batch.site_id, list(said))
    missing = [e for e in said if e not in existing]
    if missing:
        existing.update(_insert(batch, {e: _new_row(batch, said[e]) for e in missing}))
    merged: dict[tuple[str, ...], dict[int, dict[str, Any]]] = {}  # by the fields that change
    for email, contact in existing.items():
        batch.contact_ids[email] = contact["id"]
        if changes := _merge(contact, said[email]):
            merged.setdefault(tuple(sorted(changes)), {})[contact["id"]] = changes
    for names, changes in sorted(merged.items()):
        update_by_id(Contact, dict(sorted(changes.items())), names)
    _apply_consent(batch, existing)


def _load(site_id: int, emails: list[str]) -> dict[str, dict[str, Any]]:
    """The stored contacts of these emails, as plain rows of the LOADED fields."""
    found: dict[str, dict[str, Any]] = {}
    for i in range(0, len(emails), 500):
        query = Contact.select(*LOADED).where(
            Contact.site == site_id, among(Contact.email, emails[i : i + 500])
        )
        found.update({c["email"]: c for c in query.dicts()})
    return found


def _insert(batch: Batch, rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Insert new contacts; their stored rows are the rows written plus the ids the insert
    returns, without reading them back. A contact another worker inserted first is skipped by
    the insert and read instead."""
    found: dict[str, dict[str, Any]] = {}
    for contact_id, email in insert_rows(
        Contact, list(rows.values()), ignore_conflicts=True, returning=("id", "email")
    ):
        found[email] = {
            "consent_updated_at": None,
            **{f: None for f in PROFILE_FIELDS},
            **rows[email],
            "id": contact_id,
        }
    found.update(_load(batch.site_id, [e for e in rows if e not in found]))
    return found


def _profile(events: list[Event]) -> dict[str, Any]:
    """What a run of events (oldest first) says about a person; a later non-empty value wins."""
    profile: dict[str, Any] = {}
    for event in events:
        given = event.contact or {}
        profile.update({f: given[f] for f in PROFILE_FIELDS if given.get(f)})
    return profile


def _new_row(batch: Batch, events: list[Event]) -> dict[str, Any]:
    return {
        "site": batch.site_id,
        "first_order_total": 0,  # no orders yet: their totals start here (refresh_totals)
        "email": events[0].email,
        "created_at": events[0].occurred_at,
        "updated_at": events[-1].occurred_at,
        **_profile(events),
    }


def _merge(contact: dict[str, Any], events: list[Event]) -> dict[str, Any]:
    """What to update of names and phone from events newer than the stored profile (never a blank
    over a known value); empty when nothing changes."""
    updated_at = contact["updated_at"]
    newer = [e for e in events if updated_at is None or e.occurred_at >= updated_at]
    changes = {f: v for f, v in _profile(newer).items() if v != contact[f]}
    if changes:
        changes["updated_at"] = newer[-1].occurred_at
    return changes


def _apply_consent(batch: Batch, contacts: dict[str, dict[str, Any]]) -> None:
    """marketing_consent is last-write-wins by the time the shopper said it."""
    for event in sorted(batch.events, key=lambda e: (e.occurred_at, e.seq)):
        consent = _consent_in(event)
        contact = contacts.get(event.email or "")
        if consent is _UNSAID or contact is None:
            continue
        if contact["consent_updated_at"] and event.occurred_at < contact["consent_updated_at"]:
            continue
        Contact.update(marketing_consent=consent, consent_updated_at=event.occurred_at).where(
            Contact.id == contact["id"]
        ).execute()
        contact["consent_updated_at"] = event.occurred_at


_UNSAID = object()


def _consent_in(event: Event) -> Any:
    if event.type == "consent.updated":
        return event.data.get("marketing_consent")
    contact = event.contact or {}
    return contact["marketing_consent"] if contact.get("marketing_consent") is not None else _UNSAID


def stitch_sessions(batch: Batch) -> None:
    """A tracker session that shows an email belongs to that contact, earlier anonymous views
    too."""
    known = {
        e.session_key: batch.contact_ids[e.email]
        for e in batch.events
        if e.session_key and e.email and e.email in batch.contact_ids
    }
    keys = list({e.session_key for e in batch.events if e.session_key})
    if not keys:
        return
    rows = Visitor.select(Visitor.session_key, Visitor.contact).where(
        Visitor.site == batch.site_id, among(Visitor.session_key, keys)
    )
    stored = {v.session_key: v.contact_id for v in rows}
    new = [
        {
            "site": batch.site_id,
            "session_key": k,
            "contact": known.get(k),
            "first_seen_at": batch.now,
        }
        for k in keys
        if k not in stored
    ]
    insert_rows(Visitor, new, ignore_conflicts=True)
    # A session first seen in this batch was stored with its contact; only known sessions that
    # now show a (new) email carry earlier anonymous rows to attach.
    _attach_sessions(
        batch.site_id, {k: c for k, c in known.items() if k in stored and stored[k] != c}
    )
    batch.session_contacts.update({k: c for k, c in stored.items() if c})
    batch.session_contacts.update(known)


def _attach_sessions(site_id: int, contacts: dict[str, int]) -> None:
    """Three UPDATEs per 500 sessions, whatever their number: the contact is a CASE on the key."""
    keys = sorted(contacts)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for model in (Visitor, ProductView, Visit):
            whose = Case(model.session_key, [(k, contacts[k]) for k in chunk])
            query = model.update(contact=whose).where(
                model.site == site_id, model.session_key.in_(chunk)
            )
            if model is not Visitor:
                query = query.where(model.contact.is_null())
            query.execute()


def refunds_by_contact(
    site_id: int, ids: list[int], as_of: datetime | None = None
) -> list[tuple[int, Any, datetime | None]]:
    """(contact, refunded money units, when the last of those refunds was made) for these contacts:
    the refunds on their counted orders, made and counted by `as_of` when given. The refunds are
    found first, through the contacts' order ids (read from the (site, contact) index alone), and
    only the refunded orders are read: joining from the orders had SQLite read every order of these
    customers to find the few with refunds (docs/benchmarks.md, issue 19). The outer query leaves
    the site and contacts out: with them the planner would start from the customers' orders
    again."""
    orders_of = Order.select(Order.id).where(
        (Order.site == site_id) & among(Order.contact, ids or [0])
    )
    made = Refund.order.in_(orders_of)
    still_counted = (Order.is_counted == True) & Order.deleted_at.is_null()
    if as_of is not None:
        made &= Refund.created_at <= as_of
        still_counted &= unindexed(Order.counted_at) <= as_of
    refunded = (
        Refund.select(
            Refund.order.alias("order_id"),
            fn.SUM(Refund.amount).alias("amount"),
            fn.MAX(Refund.created_at).alias("last_at"),
        )
        .where(made)
        .group_by(Refund.order)
        .alias("refunded")
    )
    when = Refund.created_at.python_value  # SQLite gives the subquery's times as text
    return [
        (contact, amount, when(last_at))
        for contact, amount, last_at in Order.select(
            Order.contact,
            fn.SUM(refunded.c.amount).coerce(False),
            fn.MAX(refunded.c.last_at).coerce(False),
        )
        .join(refunded, on=(Order.id == refunded.c.order_id))
        .where(still_counted)
        .group_by(Order.contact)
        .tuples()
    ]


def order_rows(where: Any) -> list[tuple[Any, ...]]:
    """Per contact of the orders `where` selects, by contact id: (contact, orders, first and last
    counted_at as the driver gives them, gross units, the first order's total and id), in one scan,
    the first order (by counted_at, then id) found by a window."""
    rank = fn.ROW_NUMBER().over(partition_by=[Order.contact], order_by=[Order.counted_at, Order.id])
    ranked = (
        Order.select(
            Order.contact.alias("who"),
            Order.counted_at.alias("at"),
            Order.total.alias("total"),
            Order.id.alias("order_id"),
            rank.alias("n"),
        )
        .where(where)
        .alias("ranked")
    )
    first_total = fn.SUM(Case(None, [(ranked.c.n == 1, ranked.c.total)], 0))
    first_id = fn.MAX(Case(None, [(ranked.c.n == 1, ranked.c.order_id)], 0))
    return list(
        Order.select(
            ranked.c.who,
            fn.COUNT(SQL("*")),
            fn.MIN(ranked.c.at),
            fn.MAX(ranked.c.at),
            fn.SUM(ranked.c.total),
            first_total,
            first_id,
        )
        .from_(ranked)
        .group_by(ranked.c.who)
        .order_by(ranked.c.who)
        .tuples()
    )


def refresh_totals(batch: Batch) -> dict[int, ContactFacts | None]:
    """Bring the orders, spend, refunds and first/last order of the batch's touched contacts up to
    date; returns each one's facts (None: no counted order), which the rescoring reads again.

    Where all the pass did to a contact's counted orders was to add new ones (a history import, a
    sale), they are added to the stored totals: the cost of the pass does not grow with the
    customer's history. A contact is read from their orders and refunds instead when the stored
    totals cannot simply be added to: an order of theirs stopped counting, moved, changed its total
    or owner, or had refunds change; or their totals were never worked out here
    (`Contact.first_order_total` NULL)."""
    ids = sorted(batch.touched_contacts)
    added = _added_orders(batch)
    facts: dict[int, ContactFacts | None] = {}
    for i in range(0, len(ids), 500):
        facts.update(_refresh_chunk(batch.site_id, ids[i : i + 500], added))
    return facts


def recount_totals(site_id: int, contact_ids: Iterable[int]) -> dict[int, ContactFacts | None]:
    """Work out these contacts' totals from their orders and refunds and store them, whatever is
    stored (a rebuild, a generated store); a pass adds to them instead (refresh_totals)."""
    ids = sorted(set(contact_ids))
    facts: dict[int, ContactFacts | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        read = _read(site_id, chunk)
        update_by_id(Contact, {i: _totals(read[i]) for i in chunk}, TOTALS)
        facts.update(read)
    return facts


def _counts(row: dict[str, Any] | None) -> bool:
    return bool(
        row is not None and row.get("contact") and row["is_counted"] and not row.get("deleted_at")
    )


def _added_orders(batch: Batch) -> dict[int, list[dict[str, Any]] | None]:
    """Per contact whose counted orders the pass changed, the new counted orders it added, or None
    when it changed them otherwise (see refresh_totals). A touched contact left out kept their
    counted orders as they were (a pending order came, say)."""
    refunds_changed = batch.touched_orders  # new, deleted or linked refunds
    added: dict[int, list[dict[str, Any]] | None] = {}

    def unsure(contact: int) -> None:
        added[contact] = None

    for before, after in batch.order_changes:
        was, now = _counts(before), _counts(after)
        if was and now and before is not None and after is not None:
            same = (
                before["contact"] == after["contact"]
                and before["counted_at"] == after["counted_at"]
                and to_units(before["total"]) == to_units(after["total"])
            )
            if same and after["id"] not in refunds_changed:
                continue  # counted as it was: a paid order marked completed
        if was and before is not None:
            unsure(before["contact"])
        if now and after is not None:
            if before is None and after["id"] not in refunds_changed:
                listed = added.setdefault(after["contact"], [])
                if listed is not None:
                    listed.append(after)
            else:
                unsure(after["contact"])
    for contact in _owners(batch, refunds_changed):
        unsure(contact)
    return added


def _owners(batch: Batch, order_ids: set[int]) -> set[int]:
    """The contacts of these orders: from the pass's own rows, or read."""
    mine = batch.current_orders
    owners = {mine[i].get("contact") for i in order_ids if i in mine}
    rest = sorted(i for i in order_ids if i not in mine)
    for start in range(0, len(rest), 500):
        owners.update(
            contact
            for (contact,) in Order.select(Order.contact)
            .where(among(Order.id, rest[start : start + 500]))
            .tuples()
        )
    return {c for c in owners if c}


STORED = (
    Contact.id,
    Contact.orders_count,
    Contact.total_spent,
    Contact.refunded,
    Contact.first_order_at,
    Contact.last_order_at,
    Contact.first_order_total,
    Contact.first_order_id,
    Contact.last_refund_at,
)


def _stored(ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """The contacts' stored totals (money in units), locked on PostgreSQL and MariaDB: a pass that
    adds to them must not add to what another pass is still changing."""
    query = Contact.select(*STORED).where(among(Contact.id, ids)).order_by(Contact.id)
    if is_postgres() or is_mysql():
        query = query.for_update()
    when = Contact.first_order_at.python_value
    return {
        row[0]: (*row[1:4], when(row[4]), when(row[5]), row[6], row[7], when(row[8]))
        for row in database.execute(query).fetchall()
    }


def _advanced(
    stored: tuple[Any, ...], new: list[dict[str, Any]]
) -> ContactFacts | None | Literal[False]:
    """The contact's facts once `new` counted orders are added to their stored totals; False when
    they cannot be (refresh_totals)."""
    count, gross, refunded, first_at, last_at, first_total, first_id, refund_at = stored
    if first_total is None or (count and first_id is None) or (refunded and refund_at is None):
        return False  # never worked out here
    facts = (
        ContactFacts(count, gross, first_at, last_at, first_total, first_id, refunded, refund_at)
        if count
        else None
    )
    new = sorted(new, key=lambda r: (r["counted_at"], r["id"]))
    if not new:
        return facts
    totals = [to_units(r["total"]) or 0 for r in new]
    earliest = (new[0]["counted_at"], new[0]["id"])
    if facts is None or earliest < (facts.first_at, facts.first_id):  # a new first order
        first_at, first_id, first_total = *earliest, totals[0]
    return ContactFacts(
        orders=count + len(new),
        gross=gross + sum(totals),
        first_at=first_at,
        last_at=max(new[-1]["counted_at"], last_at) if count else new[-1]["counted_at"],
        first_total=first_total,
        first_id=first_id,
        refunded=refunded,
        last_refund_at=refund_at,
    )


def _refresh_chunk(
    site_id: int, ids: list[int], added: dict[int, list[dict[str, Any]] | None]
) -> dict[int, ContactFacts | None]:
    """Up to 500 contacts: their stored totals advanced by the orders the pass added, or else one
    grouped read of their orders over the (site, contact) index and one of their refunds (`_read`);
    then one UPDATE of those that changed."""
    stored = _stored(ids)
    facts: dict[int, ContactFacts | None] = {}
    unread: list[int] = []
    for contact in ids:
        new = added.get(contact, [])
        advanced = (
            False if new is None or contact not in stored else _advanced(stored[contact], new)
        )
        if advanced is False:
            unread.append(contact)
        else:
            facts[contact] = advanced
    facts.update(_read(site_id, unread))
    written = set(unread) | {i for i in ids if added.get(i)}  # read again, or added to
    update_by_id(Contact, {i: _totals(facts[i]) for i in sorted(written)}, TOTALS)
    return facts


def _read(site_id: int, ids: list[int]) -> dict[int, ContactFacts | None]:
    """These contacts' facts from their counted orders and the refunds on them. (A correlated
    MIN/MAX subquery per contact let SQLite walk the site's counted_at index from the oldest order
    instead: quadratic in the size of the shop.)"""
    if not ids:
        return {}
    counted = (
        (Order.site == site_id)
        & among(Order.contact, ids)
        & (Order.is_counted == True)
        & Order.deleted_at.is_null()
    )
    refunds = {contact: (units, at) for contact, units, at in refunds_by_contact(site_id, ids)}
    when = Order.counted_at.python_value  # SQLite gives the window's times as text
    facts: dict[int, ContactFacts | None] = dict.fromkeys(ids)
    for contact, count, first, last, gross, first_total, first_id in order_rows(counted):
        refunded, refunded_at = refunds.get(contact, (0, None))
        facts[contact] = ContactFacts(
            orders=count,
            gross=int(gross or 0),
            first_at=when(first),
            last_at=when(last),
            first_total=int(first_total or 0),
            first_id=int(first_id),
            refunded=int(refunded or 0),
            last_refund_at=refunded_at,
        )
    return facts


def _totals(facts: ContactFacts | None) -> dict[str, Any]:
    if facts is None:
        return {
            "orders_count": 0,
            "total_spent": Decimal(0),
            "refunded": Decimal(0),
            "first_order_at": None,
            "last_order_at": None,
            "first_order_total": Decimal(0),
            "first_order_id": None,
            "last_refund_at": None,
        }
    return {
        "orders_count": facts.orders,
        "total_spent": money_from_units(facts.gross),
        "refunded": money_from_units(facts.refunded),
        "first_order_at": facts.first_at,
        "last_order_at": facts.last_at,
        "first_order_total": money_from_units(facts.first_total),
        "first_order_id": facts.first_id,
        "last_refund_at": facts.last_refund_at,
    }
