"""Replenishment: which products run out, when, and one reminder per contact naming them all.

A product's reorder interval is learned only from enough customers who bought that same product
again: at least MIN_BUYERS customers with two purchases of it a day or more apart, over the last
year; the interval is the median of their own median gaps, so one heavy buyer does not set it. A
grinder or a kettle bought once by many and twice by two gets no interval, hence no reminder.

The owner decides what is consumable (flow settings of `replenishment`): `replenish_days`
(product -> days) sets an interval and makes the product consumable; `never` (products,
categories) excludes; `consumable` (products, categories), once set, is the only list reminded
(an allow-list; a product listed by id beats its categories). Categories match by name, any case.

The scan groups what is due per contact: one enrolment (key `replenish:<contact>:<day>`) whose
context lists every due product with the purchase it is based on; a product already named in an
earlier reminder for the same purchase is not named again. A product the shop cannot sell now
(flows/availability.py) is left out of the scan: it is named by a later scan if it is back in stock
while its reminder window is still open; the window's end goes in the context (`until`) so the
sender can hold a reminder whose products all sold out after the scan.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from companion.flows.availability import is_sellable
from companion.flows.backlog import enrol_scanned
from companion.flows.config import Configs
from companion.flows.enrolment import Candidate
from companion.models import Enrolment, Order, OrderItem, Product, Site

MIN_BUYERS = 5  # customers with >= 2 purchases of the product
REPLENISH_EARLY, REPLENISH_LATE = 0.85, 1.5  # remind from 85% of the interval until 150%
HISTORY = timedelta(days=365)


@dataclass(frozen=True)
class Choices:
    """The owner's say on what is consumable."""

    days: dict[str, float]
    never_products: frozenset[str]
    never_categories: frozenset[str]
    consumable_products: frozenset[str]
    consumable_categories: frozenset[str]

    @classmethod
    def of(cls, extras: dict[str, Any]) -> Choices:
        never, consumable = extras.get("never") or {}, extras.get("consumable") or {}
        return cls(
            days={str(k): float(v) for k, v in (extras.get("replenish_days") or {}).items()},
            never_products=_ids(never.get("products")),
            never_categories=_names(never.get("categories")),
            consumable_products=_ids(consumable.get("products")),
            consumable_categories=_names(consumable.get("categories")),
        )

    def allows(self, product: str, categories: Iterable[str]) -> bool:
        names = {c.lower() for c in categories}
        if product in self.days or product in self.consumable_products:
            return True
        if product in self.never_products or names & self.never_categories:
            return False
        if self.consumable_products or self.consumable_categories:
            return bool(names & self.consumable_categories)
        return True


def _ids(values: Iterable[Any] | None) -> frozenset[str]:
    return frozenset(str(v) for v in values or ())


def _names(values: Iterable[Any] | None) -> frozenset[str]:
    return frozenset(str(v).lower() for v in values or ())


def purchases(site_id: int, since: datetime) -> Any:
    """(contact, product, when, categories) of counted orders since `since`, by contact and
    product."""
    return (
        OrderItem.select(
            Order.contact, OrderItem.product_id, Order.counted_at, OrderItem.categories
        )
        .join(Order)
        .where(
            Order.site == site_id,
            Order.is_counted == True,
            Order.deleted_at.is_null(),
            Order.contact.is_null(False),
            Order.counted_at >= since,
            OrderItem.product_id.is_null(False),
        )
        .order_by(Order.contact, OrderItem.product_id, Order.counted_at)
        .tuples()
        .iterator()
    )


def reorder_intervals(site_id: int, now: datetime, configured: dict[str, Any]) -> dict[str, float]:
    """Days between repeat purchases of each product by the same customer, from at least
    MIN_BUYERS such customers (the median of their median gaps); the owner's `replenish_days`
    win."""
    gaps: dict[str, dict[int, list[float]]] = {}
    last: dict[tuple[int, str], datetime] = {}
    for contact, product, at, _ in purchases(site_id, now - HISTORY):
        previous = last.get((contact, product))
        if previous is not None and (at - previous).days >= 1:
            gaps.setdefault(product, {}).setdefault(contact, []).append(
                (at - previous).total_seconds() / 86400
            )
        last[contact, product] = at
    learned = {
        p: statistics.median(statistics.median(g) for g in by.values())
        for p, by in gaps.items()
        if len(by) >= MIN_BUYERS
    }
    learned.update({str(k): float(v) for k, v in (configured or {}).items()})
    return learned


def scan_replenishment(site: Site, configs: Configs, now: datetime) -> int:
    flow = configs.flow(site, "replenishment")
    choices = Choices.of(flow.extras)
    intervals = reorder_intervals(site.id, now, choices.days) if flow.enabled else {}
    if not intervals:
        return enrol_scanned(
            site.id, flow, [], now
        )  # the flow's start is recorded (or cleared) all the same
    due = _due(site.id, intervals, choices, now)
    named = _already_named(site.id, now - timedelta(days=REPLENISH_LATE * max(intervals.values())))
    found = []
    for contact, items in due.items():
        fresh = [item for item in items if (contact, item.product, item.day) not in named]
        if fresh:
            found.append((_candidate(contact, fresh, now), max(i.starts for i in fresh)))
    return enrol_scanned(site.id, flow, found, now)


@dataclass(frozen=True)
class Due:
    """A product due for a reminder: the purchase it is based on and its reminder window."""

    product: str
    bought_at: datetime
    starts: datetime
    ends: datetime

    @property
    def day(self) -> str:
        return f"{self.bought_at:%Y%m%d}"


def _due(
    site_id: int, intervals: dict[str, float], choices: Choices, now: datetime
) -> dict[int, list[Due]]:
    """Per contact: the products due now that the shop can sell now."""
    latest: dict[tuple[int, str], datetime] = {}
    categories: dict[str, set[str]] = {}
    for contact, product, at, cats in purchases(
        site_id, now - timedelta(days=2 * max(intervals.values()))
    ):
        if product in intervals:
            latest[contact, product] = at
            categories.setdefault(product, set()).update(cats or ())
    unavailable = set()
    for external_id, cats, status, stock in (
        Product.select(
            Product.external_id, Product.categories, Product.status, Product.stock_quantity
        )
        .where(Product.site == site_id, Product.external_id.in_(list(categories) or [""]))
        .tuples()
    ):
        categories[external_id].update(cats or ())
        if not is_sellable(status, stock):
            unavailable.add(external_id)
    due: dict[int, list[Due]] = {}
    for (contact, product), at in latest.items():
        item = Due(
            product,
            at,
            at + timedelta(days=REPLENISH_EARLY * intervals[product]),
            at + timedelta(days=REPLENISH_LATE * intervals[product]),
        )
        if (
            item.starts <= now < item.ends
            and product not in unavailable
            and choices.allows(product, categories.get(product, ()))
        ):
            due.setdefault(contact, []).append(item)
    return due


def _candidate(contact: int, items: list[Due], now: datetime) -> Candidate:
    items = sorted(items, key=lambda i: i.product)
    return Candidate(
        contact,
        f"replenish:{contact}:{now:%Y%m%d}",
        now,
        {
            "product_ids": [i.product for i in items],
            "purchases": {i.product: i.bought_at.isoformat() for i in items},
            "last_order_at": max(i.bought_at for i in items).isoformat(),
            "until": max(i.ends for i in items).isoformat(),
        },
    )


def _already_named(site_id: int, since: datetime) -> set[tuple[int, str, str]]:
    """(contact, product, purchase day) already in a reminder enrolled since `since`."""
    named = set()
    for contact, context in (
        Enrolment.select(Enrolment.contact, Enrolment.context)
        .where(
            Enrolment.site == site_id,
            Enrolment.flow_key == "replenishment",
            Enrolment.enrolled_at >= since,
        )
        .tuples()
    ):
        for product, at in reminded_purchases(context or {}).items():
            named.add((contact, product, at[:10].replace("-", "")))
    return named


def reminded_purchases(context: dict[str, Any]) -> dict[str, str]:
    """product -> ISO time of the purchase a reminder is based on (also for one-product reminders
    enrolled before reminders were grouped)."""
    if "purchases" in context:
        return {str(p): str(at) for p, at in context["purchases"].items()}
    if context.get("product_id") is not None:
        return {str(context["product_id"]): str(context.get("last_order_at") or "")}
    return {}


def reminded_products(context: dict[str, Any]) -> list[str]:
    return list(context.get("product_ids") or reminded_purchases(context))
