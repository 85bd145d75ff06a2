"""The state one processing batch carries between the per-concept appliers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple


class ContactFacts(NamedTuple):
    """One contact's counted orders and the refunds on them, as the pass's contact totals read them
    (`contacts.refresh_totals`); money in units. The rescoring reads them again rather than the
    orders (`intelligence.summary.summary_from_facts`)."""

    orders: int
    gross: int
    first_at: datetime
    last_at: datetime
    first_total: int  # the total of the first order (by counted_at, then id)
    first_id: int  # that order's id
    refunded: int
    last_refund_at: datetime | None


@dataclass
class Event:
    """A stored event, loaded again through the schema: typed data, UTC times."""

    seq: int  # the raw event's row id: orders ties between equal timestamps
    id: str
    type: str
    source: str
    occurred_at: datetime  # naive UTC
    session_key: str | None
    contact: dict[str, Any] | None
    data: dict[str, Any]

    @property
    def email(self) -> str | None:
        return (self.contact or {}).get("email") or None


@dataclass
class Batch:
    site_id: int
    now: datetime
    events: list[Event]
    contact_ids: dict[str, int] = field(default_factory=dict)  # email -> contact id
    session_contacts: dict[str, int] = field(default_factory=dict)  # session key -> contact id
    touched_contacts: set[int] = field(default_factory=set)
    touched_orders: set[int] = field(default_factory=set)
    # (before, after) row dicts of every order this batch changed; None for "did not exist".
    order_changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = field(
        default_factory=list
    )
    new_refund_ids: list[int] = field(default_factory=list)  # refunds this batch stored first
    # refund rows this batch deleted (order.refund_deleted), by order id, as they were
    deleted_refunds: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # refunds an `order.refunds_listed` leaves out, as `order.refund_deleted` events (refund_lists)
    unlisted_refunds: list[Event] = field(default_factory=list)
    # items of orders whose snapshot this batch replaced, as they were before (metrics roll-ups)
    replaced_items: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # each changed order's row and the items this batch wrote for it, as they are now (the roll-ups
    # read these instead of the database: this transaction wrote them and holds their locks)
    current_orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    current_items: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # visits this batch opened or extended (the sessions roll-up adds their difference): their
    # session keys, the ids of the new ones, and (session key, started, last seen) of the others
    # as they were before the batch
    visit_keys: set[str] = field(default_factory=set)
    new_visit_ids: set[int] = field(default_factory=set)
    visit_befores: dict[int, tuple[str, datetime, datetime]] = field(default_factory=dict)
    # every touched contact's facts as its totals were refreshed (None: no counted order)
    contact_facts: dict[int, ContactFacts | None] = field(default_factory=dict)

    def of_type(self, *types: str) -> list[Event]:
        """The batch's events of these types, in the batch's order."""
        if len(types) == 1:
            return list(self._by_type.get(types[0], ()))
        if not any(t in self._by_type for t in types):
            return []
        return [e for e in self.events if e.type in types]

    @cached_property
    def _by_type(self) -> dict[str, list[Event]]:
        # Asked for about 15 times per pass (each applier its types); the events never change.
        by_type: dict[str, list[Event]] = {}
        for event in self.events:
            by_type.setdefault(event.type, []).append(event)
        return by_type

    def contact_for(self, event: Event) -> int | None:
        if event.email and event.email in self.contact_ids:
            return self.contact_ids[event.email]
        if event.session_key:
            return self.session_contacts.get(event.session_key)
        return None
