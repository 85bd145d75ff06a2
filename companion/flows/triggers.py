"""Flow triggers and exits from applied events, run in the event batch's own transaction
(pipeline.AFTER_APPLY): they only write enrolment and step rows, never send."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from companion.core.bulk import among
from companion.flows.config import Configs
from companion.flows.content import (
    WAITING_FOR_COMPLETION,
    deferred_outcome,
    is_completed,
    orders_count_after,
)
from companion.flows.definitions import FLOWS
from companion.flows.enrolment import Candidate, enrol, exit_contact, exit_enrolments
from companion.flows.replenishment import reminded_products
from companion.ingest.batch import Batch
from companion.ingest.orders import by_source
from companion.models import Enrolment, Order, OrderItem, ScheduledStep, Site, Subscription
from companion.models.messaging import OPEN_ENROLMENT

PLACED = ("pending", "on_hold", "processing", "completed")
ORDER_ENDS = ("abandoned_cart", "browse_abandonment", "win_back", "cross_sell")
ENDED_SUBSCRIPTION = ("cancelled", "canceled", "trash", "disabled", "refunded", "switched")
BROWSE_COOLDOWN = timedelta(days=7)
ORDER_FLOWS = (
    "post_purchase",
    "cross_sell",
)  # the mails about one order: a refund or cancellation ends them


def apply_flow_triggers(batch: Batch) -> None:
    """Enrol and exit from what this batch changed: orders, refunds, carts, views, subscriptions."""
    site = Site.get_by_id(batch.site_id)
    configs = Configs()
    _order_exits(batch)
    _paid_orders(batch, site, configs)
    _unpaid_orders(batch)
    _completed_orders(batch)
    _refunds(batch)
    _carts(batch)
    _views(batch, site, configs)
    _subscriptions(batch, site, configs)


def _is_placed(row: dict[str, Any] | None) -> bool:
    return row is not None and row["status"] in PLACED and not row.get("deleted_at")


def _order_exits(batch: Batch) -> None:
    """A new order ends cart, browse, win-back and earlier cross-sell mail, and replenishment of
    what it contains; only enrolments it came after (content.orders_count_after): an old order
    arriving now (a history import, a late update) ends nothing."""
    fresh = [
        after
        for before, after in batch.order_changes
        if _is_placed(after) and not _is_placed(before) and after and after.get("contact")
    ]
    enrolled = _with_active_enrolments(batch.site_id, {o["contact"] for o in fresh})
    for order in fresh:
        if order["contact"] not in enrolled:
            continue  # nothing to end; saves the queries per order in a history import
        live = [
            e
            for e in Enrolment.select().where(
                Enrolment.site == batch.site_id,
                Enrolment.contact == order["contact"],
                Enrolment.status.in_(OPEN_ENROLMENT),
                Enrolment.flow_key.in_((*ORDER_ENDS, "replenishment")),
                Enrolment.key != f"order:{order['id']}",
            )
            if order["created_at"] > orders_count_after(e)
        ]
        if any(e.flow_key == "replenishment" for e in live):
            bought = {
                str(p)
                for (p,) in OrderItem.select(OrderItem.product_id)
                .where(OrderItem.order == order["id"])
                .tuples()
            }
            live = [
                e
                for e in live
                if e.flow_key != "replenishment" or set(reminded_products(e.context or {})) & bought
            ]
        if live:
            exit_enrolments(
                batch.site_id, Enrolment.id.in_([e.id for e in live]), "order", batch.now
            )


def _with_active_enrolments(site_id: int, contacts: set[int]) -> set[int]:
    ids, found = sorted(contacts), set[int]()
    for start in range(0, len(ids), 500):
        found.update(
            c
            for (c,) in Enrolment.select(Enrolment.contact)
            .distinct()
            .where(
                Enrolment.site == site_id,
                Enrolment.status.in_(OPEN_ENROLMENT),
                among(Enrolment.contact, ids[start : start + 500]),
            )
            .tuples()
        )
    return found


def _paid_orders(batch: Batch, site: Site, configs: Configs) -> None:
    recent = batch.now - timedelta(hours=configs.site(site)["recent_trigger_hours"])
    paid = [
        after
        for before, after in batch.order_changes
        if after
        and after["is_counted"]
        and not after.get("deleted_at")
        and after.get("contact")
        and not (before and before["is_counted"])
        and after["counted_at"] >= recent
    ]
    for key in ("post_purchase", "cross_sell"):
        flow = configs.flow(site, key)
        chosen = [o for o in paid if _meets(flow.conditions, o)]
        enrol(
            batch.site_id,
            flow,
            [
                Candidate(o["contact"], f"order:{o['id']}", o["counted_at"], {"order_id": o["id"]})
                for o in chosen
            ],
            batch.now,
        )


def _meets(conditions: dict[str, Any], order: dict[str, Any]) -> bool:
    minimum = conditions.get("min_value")
    if minimum is not None and Decimal(str(order["total"])) < Decimal(str(minimum)):
        return False
    if conditions.get("first_order_only"):
        earlier = Order.select().where(
            Order.site == order["site"],
            Order.contact == order["contact"],
            Order.is_counted == True,
            Order.deleted_at.is_null(),
            Order.id != order["id"],
            Order.counted_at <= order["counted_at"],
        )
        return not earlier.exists()
    return True


def _unpaid_orders(batch: Batch) -> None:
    """An order no longer counted (cancelled, refunded, deleted) ends its post-purchase mail."""
    for before, after in batch.order_changes:
        if (
            before
            and before["is_counted"]
            and (after is None or not after["is_counted"] or after.get("deleted_at"))
        ):
            _end_order_flows(
                batch,
                before["id"],
                "refund" if after and after["status"] == "refunded" else "cancelled",
            )


def _completed_orders(batch: Batch) -> None:
    """An order just completed: the step waiting for that (the review request,
    content.wait_for_completion) falls due now instead of at its next recheck. Only orders the
    service held before count: a step of an order first seen completed never waited."""
    done = [
        after["id"]
        for before, after in batch.order_changes
        if before
        and after
        and is_completed(after["status"], after.get("completed_at"))
        and not is_completed(before["status"], before.get("completed_at"))
    ]
    flows = [key for key, flow in FLOWS.items() if flow.after_completion_steps]
    for start in range(0, len(done), 500):
        waiting = Enrolment.select(Enrolment.id).where(
            Enrolment.site == batch.site_id,
            Enrolment.flow_key.in_(flows),
            among(Enrolment.key, [f"order:{i}" for i in done[start : start + 500]]),
            Enrolment.status == "active",
        )
        ScheduledStep.update(due_at=batch.now).where(
            ScheduledStep.enrolment.in_(waiting),
            ScheduledStep.status == "pending",
            ScheduledStep.outcome == deferred_outcome(WAITING_FOR_COMPLETION),
            ScheduledStep.due_at > batch.now,
        ).execute()


def _end_order_flows(batch: Batch, order_id: int, reason: str) -> None:
    exit_enrolments(
        batch.site_id,
        Enrolment.flow_key.in_(ORDER_FLOWS) & (Enrolment.key == f"order:{order_id}"),
        reason,
        batch.now,
    )


def _refunds(batch: Batch) -> None:
    """A refund ends its order's post-purchase and cross-sell mails: a few queries per batch."""
    keys: list[str] = []
    for source, ids in by_source(
        (e.source, e.data["order_id"]) for e in batch.of_type("order.refunded")
    ):
        keys += [
            f"order:{order_id}"
            for (order_id,) in Order.select(Order.id)
            .where(
                Order.site == batch.site_id, Order.source == source, among(Order.external_id, ids)
            )
            .tuples()
        ]
    for start in range(0, len(keys), 500):
        exit_enrolments(
            batch.site_id,
            Enrolment.flow_key.in_(ORDER_FLOWS) & among(Enrolment.key, keys[start : start + 500]),
            "refund",
            batch.now,
        )


def _carts(batch: Batch) -> None:
    """An emptied cart ends its abandoned-cart mail; a cart with items ends browse mail. The two
    exits touch different flows, so each is one set of statements for the whole batch."""
    emptied: list[str] = []
    shoppers: list[int] = []
    for event in batch.of_type("cart.updated"):
        contact = batch.contact_for(event)
        if not event.data["items"]:
            emptied.append(f"cart:{event.data['cart_token']}")
        elif contact:
            shoppers.append(contact)
    keys = sorted(set(emptied))
    for start in range(0, len(keys), 500):
        exit_enrolments(
            batch.site_id,
            (Enrolment.flow_key == "abandoned_cart")
            & among(Enrolment.key, keys[start : start + 500]),
            "cart emptied",
            batch.now,
        )
    contacts = sorted(set(shoppers))
    for start in range(0, len(contacts), 500):
        exit_contact(
            batch.site_id, contacts[start : start + 500], ["browse_abandonment"], "cart", batch.now
        )


def _views(batch: Batch, site: Site, configs: Configs) -> None:
    """Products viewed by a known contact: browse abandonment, unless one ran in the last week."""
    views: dict[int, list[Any]] = {}
    for event in sorted(batch.of_type("product.viewed"), key=lambda e: e.occurred_at):
        contact = batch.contact_for(event)
        if contact:
            views.setdefault(contact, []).append(event)
    if not views:
        return
    recent = {
        e.contact_id
        for e in Enrolment.select(Enrolment.contact).where(
            Enrolment.site == batch.site_id,
            Enrolment.flow_key == "browse_abandonment",
            among(Enrolment.contact, list(views)),
            Enrolment.enrolled_at > batch.now - BROWSE_COOLDOWN,
        )
    }
    candidates = [
        Candidate(
            contact,
            f"browse:{contact}:{seen[0].occurred_at:%Y%m%d}",
            seen[-1].occurred_at,
            {
                "product_ids": list(dict.fromkeys(str(e.data["product_id"]) for e in seen))[:4],
                "since": seen[0].occurred_at.isoformat(),
            },
        )
        for contact, seen in views.items()
        if contact not in recent
        and seen[-1].occurred_at
        > batch.now - timedelta(hours=configs.site(site)["recent_trigger_hours"])
    ]
    enrol(batch.site_id, configs.flow(site, "browse_abandonment"), candidates, batch.now)


def _subscriptions(batch: Batch, site: Site, configs: Configs) -> None:
    ids = {e.data["id"] for e in batch.of_type("subscription.updated")}
    if not ids:
        return
    rows = Subscription.select().where(
        Subscription.site == batch.site_id, among(Subscription.external_id, list(ids))
    )
    for sub in rows:
        enrol_subscription(batch.site_id, site, configs, sub, batch.now)


def subscription_key(sub: Subscription) -> str:
    return f"sub:{sub.id}:{sub.expires_at:%Y%m%d}"


def enrol_subscription(
    site_id: int, site: Site, configs: Configs, sub: Subscription, now: Any
) -> int:
    """Renewal reminders for this expiry date; a changed date (renewed) or a cancellation ends the
    old."""
    prefix = f"sub:{sub.id}:"
    ended = sub.status.lower() in ENDED_SUBSCRIPTION or sub.expires_at is None
    current = None if ended else subscription_key(sub)
    exit_enrolments(
        site_id,
        (Enrolment.flow_key == "renewal_reminder")
        & Enrolment.key.startswith(prefix)
        & (Enrolment.key != (current or "")),
        "cancelled" if ended else "renewal",
        now,
    )
    if current is None or sub.contact_id is None or sub.expires_at < now:
        return 0
    return enrol(
        site_id,
        configs.flow(site, "renewal_reminder"),
        [Candidate(sub.contact_id, current, sub.expires_at, {"subscription_id": sub.id})],
        now,
    )
