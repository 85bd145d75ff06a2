"""Enrolments from scheduled scans.

Every minute: carts newly marked abandoned, subscriptions newly inside the reminder horizon. Each
reads only the window since its cursor (plus an overlap for rows committed late), through an
index; enrolment keys make a repeated window harmless, so a scan killed mid-way loses nothing.
Every hour: win-back, VIP and replenishment, from the intelligence job's stage and predictions
where present, else from order history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from companion.core.db import retries_deadlocks, write_transaction
from companion.flows.config import Configs
from companion.flows.enrolment import Candidate, enrol
from companion.flows.triggers import enrol_subscription
from companion.models import Cart, Site, Subscription, Visitor
from companion.models.messaging import FlowCursor

OVERLAP = timedelta(minutes=15)
CURSOR_LAG = timedelta(minutes=10)
FIRST_LOOK_BACK = timedelta(days=1)
SUBSCRIPTION_HORIZON = timedelta(days=35)
CHUNK = 1000


def cursor(name: str) -> datetime | None:
    row = FlowCursor.get_or_none(FlowCursor.name == name)
    return row.position if row else None


def move_cursor(
    name: str, position: datetime, last: datetime | None = None, changed: bool = True
) -> None:
    """Record how far a scan got. A scan that found nothing moves it only every few minutes (the
    window stays small), so an idle tick writes nothing."""
    if not changed and last is not None and position - last < CURSOR_LAG:
        return
    if not FlowCursor.update(position=position).where(FlowCursor.name == name).execute():
        FlowCursor.insert(name=name, position=position).on_conflict_ignore().execute()


def newly_abandoned(since: datetime, until: datetime) -> Any:
    """Carts abandoned in (since, until]: index (status, abandoned_at)."""
    return (
        Cart.select(
            Cart.id,
            Cart.site,
            Cart.token,
            Cart.contact,
            Cart.session_key,
            Cart.value,
            Cart.updated_at,
        )
        .where(Cart.status == "abandoned", Cart.abandoned_at > since, Cart.abandoned_at <= until)
        .order_by(Cart.site)
    )


def expiring(since: datetime, until: datetime) -> Any:
    """Subscriptions expiring in (since, until] with a known contact: index on expires_at."""
    return (
        Subscription.select()
        .where(
            Subscription.expires_at > since,
            Subscription.expires_at <= until,
            Subscription.contact.is_null(False),
        )
        .order_by(Subscription.site)
    )


def scan_abandoned_carts(now: datetime, configs: Configs | None = None) -> int:
    """Carts marked abandoned since the last scan, with a known contact, enter abandoned_cart."""
    configs, added, last = configs or Configs(), 0, cursor("abandoned_carts")
    since = (last or now - FIRST_LOOK_BACK) - OVERLAP
    by_site: dict[int, list[Cart]] = {}
    for cart in newly_abandoned(since, now).iterator():
        by_site.setdefault(cart.site_id, []).append(cart)
    for site_id, carts in by_site.items():
        added += _enrol_carts(Site.get_by_id(site_id), carts, configs, now)
    move_cursor("abandoned_carts", now, last, bool(by_site))
    return added


def _enrol_carts(site: Site, carts: list[Cart], configs: Configs, now: datetime) -> int:
    flow = configs.flow(site, "abandoned_cart")
    recent = now - timedelta(hours=configs.site(site)["recent_trigger_hours"])
    minimum = flow.conditions.get("min_value")
    owners = session_owners(
        site.id, [c.session_key for c in carts if c.contact_id is None and c.session_key]
    )
    chosen = [
        (c, c.contact_id or owners.get(c.session_key or ""))
        for c in carts
        if c.updated_at >= recent
        and (minimum is None or Decimal(c.value or 0) >= Decimal(str(minimum)))
    ]
    return enrol(
        site.id,
        flow,
        [
            Candidate(contact, f"cart:{c.token}", c.updated_at, {"cart_id": c.id})
            for c, contact in chosen
            if contact
        ],
        now,
    )


def session_owners(site_id: int, keys: list[str]) -> dict[str, int]:
    """Contacts of tracker sessions that showed an email after an anonymous cart was made."""
    if not keys:
        return {}
    return dict(
        Visitor.select(Visitor.session_key, Visitor.contact)
        .where(
            Visitor.site == site_id, Visitor.session_key.in_(keys), Visitor.contact.is_null(False)
        )
        .tuples()
    )


def scan_expiring_subscriptions(now: datetime, configs: Configs | None = None) -> int:
    """Subscriptions whose expiry came inside the horizon since the last scan get reminders."""
    configs, added = configs or Configs(), 0
    last = cursor("expiring_subscriptions")
    since = now - FIRST_LOOK_BACK if last is None else last + SUBSCRIPTION_HORIZON - OVERLAP
    sites: dict[int, Site] = {}
    for sub in expiring(since, now + SUBSCRIPTION_HORIZON).iterator():
        site = sites.setdefault(sub.site_id, Site.get_by_id(sub.site_id))
        added += enrol_subscription(site.id, site, configs, sub, now)
    move_cursor("expiring_subscriptions", now, last, bool(sites))
    return added


@retries_deadlocks
def run_minute_scans(now: datetime) -> dict[str, int]:
    configs = Configs()
    with write_transaction():
        counts = {
            "abandoned_carts": scan_abandoned_carts(now, configs),
            "expiring_subscriptions": scan_expiring_subscriptions(now, configs),
        }
    return counts
