"""Per-flow figures (GET /flows/<key>/report) and the messages themselves (the outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from peewee import JOIN, Case, fn

from companion.flows import abtest
from companion.flows.definitions import FLOWS
from companion.models import Enrolment, IssuedCoupon, Message, MessageBody, Order, ScheduledStep
from companion.models.attribution import OrderAttribution
from companion.models.base import as_aware, in_period, money_from_units
from companion.models.rollups import RollupDimension

MESSAGE_FIGURES = (
    "sent",
    "outbox",
    "failed",
    "uncertain",
    "delivered",
    "opened",
    "clicked",
    "unsubscribed",
    "bounced",
    "complained",
)


def _message_figures() -> list[Any]:
    def status(name: str) -> Any:
        return fn.SUM(Case(None, [(Message.status == name, 1)], 0)).alias(name)

    return [
        status("sent"),
        status("outbox"),
        status("failed"),
        status("uncertain"),
        fn.COUNT(Message.delivered_at).alias("delivered"),
        fn.COUNT(Message.opened_at).alias("opened"),
        fn.COUNT(Message.clicked_at).alias("clicked"),
        fn.COUNT(Message.unsubscribed_at).alias("unsubscribed"),
        fn.COUNT(Message.bounced_at).alias("bounced"),
        fn.COUNT(Message.complained_at).alias("complained"),
    ]


def flow_report(
    site_id: int,
    key: str,
    start: datetime | None = None,
    end: datetime | None = None,
    days: LocalDays | None = None,
) -> dict[str, Any]:
    """The flow's figures for [start, end). With `days` (the same span as local days of the site,
    and the currency to count), attributed orders and recovered carts come from the daily
    roll-ups instead of walking every order ever attributed to the flow (the dashboard)."""
    return flow_reports(site_id, [key], start, end, days)[key]


def flow_reports(
    site_id: int,
    keys: Sequence[str],
    start: datetime | None = None,
    end: datetime | None = None,
    days: LocalDays | None = None,
) -> dict[str, dict[str, Any]]:
    """flow_report for several flows with one statement per figure for all of them (the flows
    page shows every flow: 9 statements instead of 7 per flow)."""
    keys = list(keys)
    enrolments: dict[str, dict[str, int]] = {}
    for key, status, count in (
        Enrolment.select(Enrolment.flow_key, Enrolment.status, fn.COUNT(Enrolment.id))
        .where(
            Enrolment.site == site_id,
            Enrolment.flow_key.in_(keys),
            in_period(Enrolment.enrolled_at, start, end),
        )
        .group_by(Enrolment.flow_key, Enrolment.status)
        .tuples()
    ):
        enrolments.setdefault(key, {})[status] = count
    per_step: dict[tuple[str, int], dict[str, Any]] = {
        (row["flow_key"], row["step"]): row
        for row in Message.select(Message.flow_key, Message.step, *_message_figures())
        .where(
            Message.site == site_id,
            Message.flow_key.in_(keys),
            in_period(Message.created_at, start, end),
        )
        .group_by(Message.flow_key, Message.step)
        .dicts()
    }
    orders = (
        attributed_orders(site_id, keys, start, end)
        if days is None
        else rolled_attributed_orders(site_id, keys, days)
    )
    skipped = skipped_steps(site_id, keys, start, end)
    issued = coupon_figures(site_id, keys, start, end)
    tests = abtest.step_results(site_id, keys, start, end)
    recovered = (
        (0, Decimal(0))
        if "abandoned_cart" not in keys
        else recovered_carts(site_id, start, end)
        if days is None
        else rolled_recovered_carts(site_id, days)
    )
    return {
        key: _report(
            key,
            start,
            end,
            enrolments.get(key, {}),
            {n: row for (k, n), row in per_step.items() if k == key},
            orders.get(key, {}),
            skipped.get(key, {}),
            issued.get(key, {}),
            tests.get(key, {}),
            recovered if key == "abandoned_cart" else (0, Decimal(0)),
        )
        for key in keys
    }


def _report(
    key: str,
    start: datetime | None,
    end: datetime | None,
    enrolments: dict[str, int],
    per_step: dict[int, dict[str, Any]],
    orders: dict[int, dict[str, Any]],
    skipped: dict[int, dict[str, int]],
    issued: dict[int, dict[str, Any]],
    tests: dict[int, dict[str, Any]],
    recovered: tuple[int, Decimal],
) -> dict[str, Any]:
    steps = []
    for number in range(1, len(FLOWS[key].delays_hours) + 1):
        figures = {f: int(per_step.get(number, {}).get(f) or 0) for f in MESSAGE_FIGURES}
        figures.update(orders.get(number, {"orders": 0, "revenue": Decimal(0)}))
        reasons = skipped.get(number, {})
        steps.append(
            {
                "step": number,
                **figures,
                "skipped": sum(reasons.values()),
                "skip_reasons": reasons,
                "coupons": issued.get(number, _no_coupons()),
            }
        )
        steps[-1]["ab_test"] = tests.get(number)
    totals: dict[str, Any] = {
        f: sum(s[f] for s in steps) for f in (*MESSAGE_FIGURES, "orders", "revenue", "skipped")
    }
    totals["skip_reasons"] = {}
    for step in steps:
        for reason, count in step["skip_reasons"].items():
            totals["skip_reasons"][reason] = totals["skip_reasons"].get(reason, 0) + count
    totals["coupons"] = _rate(
        {
            f: sum(s["coupons"][f] for s in steps)
            for f in ("issued", "redeemed", "discount", "revenue")
        }
    )
    return {
        "flow": key,
        "from": as_aware(start),
        "to": as_aware(end),
        "enrolled": sum(n for status, n in enrolments.items() if status != "held"),
        "active": enrolments.get("active", 0),
        "completed": enrolments.get("completed", 0),
        "exited": enrolments.get("exited", 0),
        **totals,
        "recovered_carts": recovered[0],
        "recovered_revenue": recovered[1],
        "steps": steps,
    }


def _no_coupons() -> dict[str, Any]:
    return _rate({"issued": 0, "redeemed": 0, "discount": Decimal(0), "revenue": Decimal(0)})


def _rate(figures: dict[str, Any]) -> dict[str, Any]:
    issued = figures["issued"]
    figures["redemption_rate"] = round(figures["redeemed"] / issued, 4) if issued else None
    return figures


def coupon_figures(
    site_id: int, keys: Sequence[str], start: datetime | None, end: datetime | None
) -> dict[str, dict[int, dict[str, Any]]]:
    """Single-use coupons the store made for this flow's mails (issued in the period), by step:
    how many reached their contact (a code whose mail was never written, or that SendGrid dropped,
    is in the store but not issued), how many a counted order used (an order cancelled or never
    paid does not count, as in docs/metrics.md), those orders' discount and revenue (totals net
    of refunds)."""
    counted = (Order.is_counted == True) & Order.deleted_at.is_null()
    rows = (
        IssuedCoupon.select(
            IssuedCoupon.flow_key,
            IssuedCoupon.step,
            fn.COUNT(IssuedCoupon.id),
            fn.SUM(Case(None, [(counted, 1)], 0)),
            fn.SUM(Case(None, [(counted, IssuedCoupon.discount)], 0)).coerce(False),
            fn.SUM(Case(None, [(counted, Order.total)], 0)).coerce(False),
            fn.SUM(Case(None, [(counted, Order.refunded_total)], 0)).coerce(False),
        )
        .join(
            Message,
            on=(Message.enrolment == IssuedCoupon.enrolment) & (Message.step == IssuedCoupon.step),
        )
        .join(Order, JOIN.LEFT_OUTER, on=(IssuedCoupon.order_id == Order.id))
        .where(
            IssuedCoupon.site == site_id,
            Message.status != "failed",
            IssuedCoupon.flow_key.in_(list(keys)),
            IssuedCoupon.status == "created",
            in_period(IssuedCoupon.issued_at, start, end),
        )
        .group_by(IssuedCoupon.flow_key, IssuedCoupon.step)
        .tuples()
    )
    found: dict[str, dict[int, dict[str, Any]]] = {}
    for key, step, issued, redeemed, discount, total, refunded in rows:
        found.setdefault(key, {})[step] = _rate(
            {
                "issued": int(issued),
                "redeemed": int(redeemed or 0),
                "discount": money_from_units(discount),
                "revenue": money_from_units(total) - money_from_units(refunded),
            }
        )
    return found


def skipped_steps(
    site_id: int, keys: Sequence[str], start: datetime | None, end: datetime | None
) -> dict[str, dict[int, dict[str, int]]]:
    """Steps closed without a message (no product to show, no consent, step off...), by step and
    reason, for the enrolments made in the period."""
    rows = (
        ScheduledStep.select(
            Enrolment.flow_key,
            ScheduledStep.step,
            ScheduledStep.outcome,
            fn.COUNT(ScheduledStep.id),
        )
        .join(Enrolment, on=(ScheduledStep.enrolment == Enrolment.id))
        .where(
            Enrolment.site == site_id,
            Enrolment.flow_key.in_(list(keys)),
            in_period(Enrolment.enrolled_at, start, end),
            ScheduledStep.status == "skipped",
        )
        .group_by(Enrolment.flow_key, ScheduledStep.step, ScheduledStep.outcome)
        .tuples()
    )
    found: dict[str, dict[int, dict[str, int]]] = {}
    for key, step, outcome, count in rows:
        found.setdefault(key, {}).setdefault(step, {})[outcome or "unknown"] = count
    return found


def _counted(start: datetime | None, end: datetime | None) -> Any:
    return (
        (Order.is_counted == True)
        & Order.deleted_at.is_null()
        & in_period(Order.counted_at, start, end)
    )


def attributed_orders(
    site_id: int, keys: Sequence[str], start: datetime | None, end: datetime | None
) -> dict[str, dict[int, dict[str, Any]]]:
    """Orders credited to a step of these flows (last click), and their revenue net of refunds."""
    rows = (
        OrderAttribution.select(
            OrderAttribution.flow_key,
            OrderAttribution.step,
            fn.COUNT(Order.id),
            fn.SUM(Order.total).coerce(False),
            fn.SUM(Order.refunded_total).coerce(False),
        )
        .join(Order, on=(OrderAttribution.order == Order.id))
        .where(
            OrderAttribution.site == site_id,
            OrderAttribution.flow_key.in_(list(keys)),
            _counted(start, end),
        )
        .group_by(OrderAttribution.flow_key, OrderAttribution.step)
        .tuples()
    )
    found: dict[str, dict[int, dict[str, Any]]] = {}
    for key, step, count, total, refunded in rows:
        if step is not None:
            found.setdefault(key, {})[step] = {
                "orders": count,
                "revenue": money_from_units(total) - money_from_units(refunded),
            }
    return found


def recovered_carts(
    site_id: int, start: datetime | None, end: datetime | None
) -> tuple[int, Decimal]:
    count, total, refunded = (
        OrderAttribution.select(
            fn.COUNT(Order.id),
            fn.SUM(Order.total).coerce(False),
            fn.SUM(Order.refunded_total).coerce(False),
        )
        .join(Order, on=(OrderAttribution.order == Order.id))
        .where(
            OrderAttribution.site == site_id,
            OrderAttribution.recovered == True,
            _counted(start, end),
        )
        .tuples()
        .get()
    )
    return int(count or 0), money_from_units(total) - money_from_units(refunded)


@dataclass(frozen=True)
class LocalDays:
    first: date
    last: date
    currency: str


def _rolled(site_id: int, dimension: str, days: LocalDays) -> Any:
    d = RollupDimension
    return (
        d.select(
            d.key,
            fn.SUM(d.orders),
            fn.SUM(d.revenue).coerce(False),
            fn.SUM(d.placed_refunds).coerce(False),
        )
        .where(
            d.site == site_id,
            d.currency == days.currency,
            d.dimension == dimension,
            d.day >= days.first,
            d.day <= days.last,
        )
        .group_by(d.key)
        .tuples()
    )


def rolled_attributed_orders(
    site_id: int, keys: Sequence[str], days: LocalDays
) -> dict[str, dict[int, dict[str, Any]]]:
    """`attributed_orders` over whole local days, from the email-step roll-up (orders counted
    those days, their totals net of every refund on them: the roll-up's placed refunds)."""
    found: dict[str, dict[int, dict[str, Any]]] = {}
    for step_key, count, total, refunded in _rolled(site_id, "email_step", days):
        flow, _, step = step_key.rpartition(":")
        if flow in keys and step.lstrip("-").isdigit() and count:
            found.setdefault(flow, {})[int(step)] = {
                "orders": int(count),
                "revenue": money_from_units(total) - money_from_units(refunded),
            }
    return found


def rolled_recovered_carts(site_id: int, days: LocalDays) -> tuple[int, Decimal]:
    for _, count, total, refunded in _rolled(site_id, "recovered", days):
        return int(count or 0), money_from_units(total) - money_from_units(refunded)
    return 0, Decimal(0)


# --- the outbox ----------------------------------------------------------------------------------

SUMMARY_FIELDS = (
    "uuid",
    "flow_key",
    "step",
    "to_email",
    "subject",
    "status",
    "provider_id",
    "error",
    "created_at",
    "sent_at",
    "delivered_at",
    "opened_at",
    "clicked_at",
    "unsubscribed_at",
)


def summary(message: Message) -> dict[str, Any]:
    data = {f: getattr(message, f) for f in SUMMARY_FIELDS}
    return {k: as_aware(v) if isinstance(v, datetime) else v for k, v in data.items()}


def list_messages(
    site_id: int,
    status: str | None = None,
    flow_key: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    query = Message.select().where(Message.site == site_id)
    if status:
        query = query.where(Message.status == status)
    if flow_key:
        query = query.where(Message.flow_key == flow_key)
    total = query.count()
    rows = query.order_by(Message.created_at.desc(), Message.id.desc()).paginate(page, per_page)
    return [summary(m) for m in rows], total


def message_detail(site_id: int, message_uuid: str) -> dict[str, Any] | None:
    """One message as its recipient sees it (a shared body with their substitutions applied)."""
    message = Message.get_or_none(Message.site == site_id, Message.uuid == message_uuid)
    if message is None:
        return None
    body = MessageBody.get_by_id(message.body_id)
    html, text = body.html, body.text
    for tag, value in (message.substitutions or {}).items():
        html, text = html.replace(tag, value), text.replace(tag, value)
    return {
        **summary(message),
        "html": html,
        "text": text,
        "links": message.links or [],
        "from_email": message.from_email,
        "from_name": message.from_name,
        "reply_to": message.reply_to,
        "headers": message.headers or {},
    }
