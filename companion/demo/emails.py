"""The demo's email history: flow messages sent over the past months, some opened, some clicked
just before an order. Emails are the service's own records, not plugin events, so they are
written directly; the clicks then go through the metrics' attribution (record_touch,
record_cart_email, attribute) and the roll-ups are rebuilt, exactly as live clicks would count.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from companion.flows.config import site_config
from companion.flows.definitions import FLOWS
from companion.metrics.attribution import attribute, record_cart_email, record_touch
from companion.models import Contact, Message, MessageBody, Order, Site

SUBJECTS = {
    "post_purchase": "Thanks for your order – brewing tips inside",
    "abandoned_cart": "You left something in your cart",
    "cross_sell": "Goes well with your last order",
    "win_back": "We miss you – 10% off your next bag",
    "replenishment": "Running low on beans?",
    "vip": "Early access for our best customers",
    "browse_abandonment": "Still thinking it over?",
}
# The demo's win-back mail tests a second subject (flows/abtest.py); B is clicked a bit more.
AB_FLOW = "win_back"
# Step 1 carries no coupon (step 2 does), so neither subject promises one.
AB_SUBJECT_B = "It has been a while - here is what is brewing"
AB_B_SHARE_OF_CLICKS = 0.62
SENDS_PER_CLICK = {
    "post_purchase": 9,
    "abandoned_cart": 4,
    "cross_sell": 8,
    "win_back": 14,
    "replenishment": 6,
    "vip": 5,
    "browse_abandonment": 10,
}  # most mails are not clicked
OPEN_SHARE = 0.45


def email_orders(site: Site) -> list[Mapping[str, Any]]:
    """Orders whose tracked link said they came from one of our emails (utm_medium=email)."""
    return list(
        Order.select()
        .where(
            Order.site == site.id,
            Order.utm_medium == "email",
            Order.utm_source == "sales-companion",
            Order.contact.is_null(False),
        )
        .dicts()
    )


def _bodies(site: Site) -> dict[str, int]:
    ids = {}
    for key, subject in SUBJECTS.items():
        digest = hashlib.sha256(f"demo:{key}".encode()).hexdigest()
        body, _ = MessageBody.get_or_create(
            site=site.id,
            digest=digest,
            defaults={
                "html": f'<p>{subject}</p><p><a href="{site.url}">Visit the shop</a></p>',
                "text": subject,
            },
        )
        ids[key] = body.id
    return ids


def _message(
    site: Site,
    sender: str,
    body: int,
    key: str,
    contact: dict[str, Any],
    sent_at: datetime,
    opened: bool,
    clicked_at: datetime | None,
    variant: str | None = None,
) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "site": site.id,
        "flow_key": key,
        "step": 1,
        "contact": contact["id"],
        "to_email": contact["email"],
        "from_email": sender,
        "subject": AB_SUBJECT_B if variant == "B" else SUBJECTS[key],
        "variant": variant,
        "body": body,
        "is_marketing": FLOWS[key].is_marketing_step(1),
        "status": "sent",
        "provider_id": f"demo-{uuid.uuid4().hex[:16]}",
        "created_at": sent_at,
        "sent_at": sent_at,
        "delivered_at": sent_at + timedelta(seconds=20),
        "opened_at": (clicked_at or sent_at + timedelta(hours=2)) if opened or clicked_at else None,
        "clicked_at": clicked_at,
        "last_clicked_at": clicked_at,
        "open_count": 1 if opened or clicked_at else 0,
        "click_count": 1 if clicked_at else 0,
    }


def _variant(rng: random.Random, key: str, share_b: float) -> str | None:
    if key != AB_FLOW:
        return None
    return "B" if rng.random() < share_b else "A"


def write_history(site: Site, seed_value: int = 7) -> int:
    """Messages and clicks behind the demo's email orders; returns how many orders an email
    earned."""
    rng = random.Random(seed_value)
    orders = email_orders(site)
    if not orders:
        return 0
    contacts = {
        c["id"]: c
        for c in Contact.select(Contact.id, Contact.email).where(Contact.site == site.id).dicts()
    }
    others = list(contacts.values())
    sender, bodies, messages = site_config(site)["from_email"], _bodies(site), []
    for order in orders:
        key = order["utm_campaign"] if order["utm_campaign"] in SUBJECTS else "post_purchase"
        clicked_at = order["created_at"] - timedelta(minutes=rng.randint(10, 60 * 48))
        sent_at = clicked_at - timedelta(minutes=rng.randint(5, 60 * 20))
        message = _message(
            site,
            sender,
            bodies[key],
            key,
            contacts[order["contact"]],
            sent_at,
            True,
            clicked_at,
            _variant(rng, key, AB_B_SHARE_OF_CLICKS),
        )
        messages.append(message)
        record_touch(
            site.id, order["contact"], message["uuid"], "click", clicked_at, flow_key=key, step=1
        )
        if key == "abandoned_cart" and order["cart_token"]:
            record_cart_email(site.id, order["cart_token"], sent_at)
        for _ in range(rng.randint(1, 2 * SENDS_PER_CLICK[key] - 1)):
            messages.append(
                _message(
                    site,
                    sender,
                    bodies[key],
                    key,
                    rng.choice(others),
                    sent_at + timedelta(minutes=rng.randint(-600, 600)),
                    rng.random() < OPEN_SHARE,
                    None,
                    _variant(rng, key, 0.5),
                )
            )
    for start in range(0, len(messages), 500):
        Message.insert_many(messages[start : start + 500]).execute()
    return len(attribute(site, orders))
