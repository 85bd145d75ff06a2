"""One customer's story: views, carts, orders, refunds and emails, newest first, with scores."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from companion import profiles
from companion.flows.definitions import FLOWS
from companion.models import Contact, Message
from companion.models.base import as_aware

LIMIT = 200
RECENT_EMAILS = 50


def entry(
    at: datetime | None, kind: str, title: str, detail: str = "", amount: Decimal | None = None
) -> dict[str, Any]:
    return {"at": at, "kind": kind, "title": title, "detail": detail, "amount": amount}


def _order_entries(order: dict[str, Any]) -> list[dict[str, Any]]:
    items = ", ".join(f"{i['quantity']} × {i['name'] or i['product_id']}" for i in order["items"])
    status = order["status"].replace("_", " ")
    entries = [
        entry(
            order["paid_at"] or order["created_at"],
            "order",
            f"Order #{order['number'] or order['external_id']} ({status})",
            items,
            order["total"],
        )
    ]
    for refund in order["refunds"]:
        entries.append(
            entry(
                refund["created_at"],
                "refund",
                f"Refund on order #{order['number'] or order['external_id']}",
                refund["reason"] or "",
                refund["amount"],
            )
        )
    return entries


def _other_entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    entries = []
    for cart in data["carts"]:
        count = sum(int(i.get("quantity") or 0) for i in cart["items"] or [])
        entries.append(
            entry(
                cart["updated_at"],
                "cart",
                f"Cart {cart['status']}",
                f"{count} item{'s' if count != 1 else ''}",
                cart["value"],
            )
        )
    for view in data["product_views"]:
        entries.append(
            entry(
                view["occurred_at"],
                "view",
                f"Viewed {view['name'] or view['product_id']}",
                view["url"] or "",
            )
        )
    for visit in data["visits"]:
        pages = visit["page_views"]
        entries.append(
            entry(
                visit["started_at"],
                "visit",
                f"Visit ({pages} page{'s' if pages != 1 else ''})",
                " ".join(filter(None, [visit["landing_url"], visit["utm_source"]])),
            )
        )
    return entries


def timeline(contact: Contact, timezone: str) -> dict[str, Any]:
    """The profile and its events newest first, in the site's local time."""
    data = profiles.profile(contact)
    entries = [e for o in data["orders"] for e in _order_entries(o)] + _other_entries(data)
    entries += email_entries(contact)
    entries.sort(key=lambda e: e["at"].timestamp() if e["at"] else 0.0, reverse=True)
    zone = ZoneInfo(timezone)
    for e in entries:
        e["at"] = e["at"].astimezone(zone) if e["at"] else None
    return {"profile": data, "entries": entries[:LIMIT]}


def email_entries(contact: Contact) -> list[dict[str, Any]]:
    messages = (
        Message.select()
        .where(Message.site == contact.site_id, Message.contact == contact.id)
        .order_by(Message.created_at.desc())
        .limit(RECENT_EMAILS)
    )
    entries = []
    for m in messages:
        what = ", ".join(
            word for word, at in (("opened", m.opened_at), ("clicked", m.clicked_at)) if at
        )
        status = "in the outbox" if m.status == "outbox" else m.status
        entries.append(
            entry(
                as_aware(m.sent_at or m.created_at),
                "email",
                f"Email: {m.subject}",
                f"{FLOWS[m.flow_key].title if m.flow_key in FLOWS else m.flow_key}, {status}"
                + (f", {what}" if what else ""),
            )
        )
    return entries
