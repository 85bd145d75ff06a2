"""Email attribution: the flows record touches and abandoned-cart sends; orders get credited.

An order is credited to the contact's last click on a tracked link within the site's window
(option `attribution_window_days`, 1-30, default 5) before the order was placed; opens count
only when option `attribution_count_opens` is true. An order from a cart that an abandoned-cart
email was sent for, placed after that email, is recovered. Both are decided when the order
changes and stored on it (OrderAttribution), so series and roll-ups stay cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from companion.core.bulk import among, insert_rows
from companion.models import Site
from companion.models.attribution import TOUCH_KINDS, CartEmail, EmailTouch, OrderAttribution
from companion.models.base import to_naive_utc

DEFAULT_WINDOW_DAYS = 5
ATTRIBUTED_FIELDS = (
    "message_uuid",
    "flow_key",
    "step",
    "campaign",
    "kind",
    "touched_at",
    "recovered",
)


def record_touch(
    site_id: int,
    contact_id: int,
    message_uuid: str,
    kind: str,
    occurred_at: datetime,
    flow_key: str | None = None,
    step: int | None = None,
    campaign: str | None = None,
) -> None:
    """Remember that a contact clicked (or opened) a message; called by the flows on each hit."""
    if kind not in TOUCH_KINDS:
        raise ValueError(f"kind must be one of {TOUCH_KINDS}, not {kind!r}")
    EmailTouch.create(
        site=site_id,
        contact=contact_id,
        message_uuid=message_uuid,
        kind=kind,
        occurred_at=to_naive_utc(occurred_at),
        flow_key=flow_key,
        step=step,
        campaign=campaign,
    )


def record_cart_email(site_id: int, cart_token: str, sent_at: datetime) -> None:
    """Remember that an abandoned-cart email went out for a cart; called by the flows on send."""
    CartEmail.create(site=site_id, cart_token=cart_token, sent_at=to_naive_utc(sent_at))


def window_days(site: Site) -> int:
    value = _options(site).get("attribution_window_days", DEFAULT_WINDOW_DAYS)
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_WINDOW_DAYS
    return min(max(days, 1), 30)


def counted_kinds(site: Site) -> tuple[str, ...]:
    return ("click", "open") if _options(site).get("attribution_count_opens") else ("click",)


def _options(site: Site) -> dict[str, Any]:
    options = site.options
    return options if isinstance(options, dict) else {}


def stored(order_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(order_ids)
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        for row in (
            OrderAttribution.select()
            .where(among(OrderAttribution.order, ids[start : start + 500]))
            .dicts()
        ):
            found[row["order"]] = row
    return found


def attribute(site: Site, orders: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """Decide and store the attribution of these orders (row dicts); returns it per order id."""
    touches, emails = _touches(site, orders), _cart_emails(site.id, orders)
    decided = {o["id"]: _decide(o, touches, emails) for o in orders}
    ids = [o["id"] for o in orders]
    for start in range(0, len(ids), 500):
        OrderAttribution.delete().where(
            among(OrderAttribution.order, ids[start : start + 500])
        ).execute()
    rows = [{"order": oid, "site": site.id, **a} for oid, a in decided.items() if a]
    insert_rows(OrderAttribution, rows)
    return {oid: a for oid, a in decided.items() if a}


def _touches(site: Site, orders: Sequence[Mapping[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    contacts = sorted({o["contact"] for o in orders if o.get("contact")})
    if not contacts:
        return {}
    window = timedelta(days=window_days(site))
    earliest = min(o["created_at"] for o in orders) - window
    latest = max(o["created_at"] for o in orders)
    by_contact: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(contacts), 500):
        query = (
            EmailTouch.select()
            .where(
                EmailTouch.site == site.id,
                among(EmailTouch.contact, contacts[start : start + 500]),
                EmailTouch.kind.in_(counted_kinds(site)),
                EmailTouch.occurred_at >= earliest,
                EmailTouch.occurred_at <= latest,
            )
            .order_by(EmailTouch.occurred_at, EmailTouch.id)
            .dicts()
        )
        for touch in query:
            touch["window"] = window
            by_contact.setdefault(touch["contact"], []).append(touch)
    return by_contact


def _cart_emails(site_id: int, orders: Sequence[Mapping[str, Any]]) -> dict[str, datetime]:
    tokens = sorted({o["cart_token"] for o in orders if o.get("cart_token")})
    first: dict[str, datetime] = {}
    for start in range(0, len(tokens), 500):
        for token, sent_at in (
            CartEmail.select(CartEmail.cart_token, CartEmail.sent_at)
            .where(
                CartEmail.site == site_id, among(CartEmail.cart_token, tokens[start : start + 500])
            )
            .tuples()
        ):
            first[token] = min(sent_at, first.get(token, sent_at))
    return first


def _decide(
    order: Mapping[str, Any],
    touches: dict[int, list[dict[str, Any]]],
    cart_emails: dict[str, datetime],
) -> dict[str, Any]:
    placed = order["created_at"]
    eligible = [
        t
        for t in touches.get(order.get("contact") or 0, [])
        if placed - t["window"] <= t["occurred_at"] <= placed
    ]
    out: dict[str, Any] = {}
    if eligible:
        last = eligible[-1]
        out = {
            "message_uuid": last["message_uuid"],
            "flow_key": last["flow_key"],
            "step": last["step"],
            "campaign": last["campaign"],
            "kind": last["kind"],
            "touched_at": last["occurred_at"],
        }
    sent = cart_emails.get(order.get("cart_token") or "")
    if sent is not None and sent <= placed:
        out["recovered"] = True
    return out
