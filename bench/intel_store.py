"""A generated store written by bulk INSERTs: contacts, counted orders, order lines, refunds.

Customers buy as BG/NBD says (a Poisson rate per customer, a chance to drop out after each
order); products have a popularity and a few "companion" products that are often bought with
them. Used by tests/intelligence_wiring (a few hundred customers) and bench/bench_refresh.py
(200,000 customers, ~1,000,000 orders).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from companion.intelligence.writeback import _engine, insert_rows
from companion.models import Contact, Order, OrderItem, Product, Refund
from companion.models.base import MONEY_SCALE, utcnow


@dataclass
class StoreShape:
    customers: int = 600
    leads: int = 20
    days: int = 240
    products: int = 40
    rate: tuple[float, float] = (0.8, 40.0)  # Gamma(r, alpha): orders per day
    dropout: tuple[float, float] = (1.0, 5.0)  # Beta(a, b) after each order
    refund_share: float = 0.05
    seed: int = 1
    end: datetime = field(default_factory=lambda: utcnow().replace(hour=0, minute=0, second=0))


def simulate_orders(shape: StoreShape) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, order time in days from the start) of every order, in time order."""
    rng = np.random.default_rng(shape.seed)
    n = shape.customers
    lam = rng.gamma(shape.rate[0], 1.0 / shape.rate[1], n)
    drop = rng.beta(*shape.dropout, n)
    t = rng.uniform(0, shape.days, n)
    who, when = [np.arange(n)], [t.copy()]
    alive = np.ones(n, dtype=bool)
    while alive.any():
        alive &= rng.random(n) >= drop
        t = t + rng.exponential(1.0, n) / np.maximum(lam, 1e-9)
        alive &= t < shape.days
        who.append(np.flatnonzero(alive))
        when.append(t[alive])
    customer, day = np.concatenate(who), np.concatenate(when)
    order = np.argsort(day, kind="stable")
    return customer[order], day[order]


def order_lines(shape: StoreShape, n_orders: int) -> tuple[np.ndarray, np.ndarray]:
    """(order index, product index) lines: a main product by popularity, sometimes its companion."""
    rng = np.random.default_rng(shape.seed + 1)
    weights = 1.0 / np.arange(1, shape.products + 1)
    main = rng.choice(shape.products, n_orders, p=weights / weights.sum())
    companion = (main + 1) % shape.products
    extra = rng.choice(shape.products, n_orders)
    orders = [np.arange(n_orders)]
    products = [main]
    with_companion = rng.random(n_orders) < 0.35
    orders.append(np.flatnonzero(with_companion))
    products.append(companion[with_companion])
    with_extra = (rng.random(n_orders) < 0.25) & (extra != main) & (extra != companion)
    orders.append(np.flatnonzero(with_extra))
    products.append(extra[with_extra])
    return np.concatenate(orders), np.concatenate(products)


def _units(values: np.ndarray) -> list[int]:
    return np.rint(values * MONEY_SCALE).astype(np.int64).tolist()


def _text(moments: np.ndarray, engine_text: bool) -> list[Any]:
    as_dt = moments.astype("datetime64[s]").astype(datetime).tolist()
    return [f"{d:%Y-%m-%d %H:%M:%S}" for d in as_dt] if engine_text else as_dt


def generate_store(site: Any, shape: StoreShape) -> dict[str, Any]:
    """Write the store; returns the contact ids (customers first) and order ids in time order."""
    text = _engine() == 0
    start = np.datetime64(shape.end - timedelta(days=shape.days), "s")
    contact_ids = _contacts(site, shape, text, start)
    customer, day = simulate_orders(shape)
    moments = start + (day * 86_400).astype("timedelta64[s]")
    rng = np.random.default_rng(shape.seed + 2)
    nu = rng.gamma(4.0, 1.0 / 30.0, shape.customers)  # Gamma-Gamma: p=6, q=4, gamma=30
    totals = np.maximum(np.round(rng.gamma(6.0, 1.0 / nu[customer]), 2), 1.0)
    order_ids = _orders(site, np.asarray(contact_ids)[customer], moments, totals, text)
    _lines(site, shape, order_ids, text)
    refunded = _refunds(site, shape, order_ids, moments, totals, text)
    return {
        "contact_ids": contact_ids,
        "order_ids": order_ids,
        "customer": customer,
        "moments": moments,
        "totals": totals,
        "refunds": refunded,
    }


def _contacts(site: Any, shape: StoreShape, text: bool, start: np.datetime64) -> list[int]:
    n = shape.customers + shape.leads
    created = _text(np.full(n, start), text)
    rows = [(site.id, f"c{i:07d}@example.com", created[i], created[i], 0, 0, 0) for i in range(n)]
    insert_rows(
        Contact,
        ["site", "email", "created_at", "updated_at", "orders_count", "total_spent", "refunded"],
        rows,
    )
    found = dict(Contact.select(Contact.email, Contact.id).where(Contact.site == site.id).tuples())
    return [found[f"c{i:07d}@example.com"] for i in range(n)]


def _orders(
    site: Any, contacts: np.ndarray, moments: np.ndarray, totals: np.ndarray, text: bool
) -> list[int]:
    at = _text(moments, text)
    units = _units(totals)
    rows = [
        (
            site.id,
            "woocommerce",
            f"o{k}",
            "completed",
            site.currency,
            units[k],
            0,
            False,
            int(contacts[k]),
            at[k],
            at[k],
            at[k],
            0,
            True,
            at[k],
        )
        for k in range(len(units))
    ]
    insert_rows(
        Order,
        [
            "site",
            "source",
            "external_id",
            "status",
            "currency",
            "total",
            "refunded_total",
            "is_renewal",
            "contact",
            "created_at",
            "paid_at",
            "modified_at",
            "snapshot_seq",
            "is_counted",
            "counted_at",
        ],
        rows,
    )
    found = dict(Order.select(Order.external_id, Order.id).where(Order.site == site.id).tuples())
    return [found[f"o{k}"] for k in range(len(units))]


def _lines(site: Any, shape: StoreShape, order_ids: list[int], text: bool) -> None:
    orders, products = order_lines(shape, len(order_ids))
    ids = np.asarray(order_ids)[orders].tolist()
    pids = products.tolist()
    insert_rows(
        OrderItem,
        ["order", "site", "product_id", "quantity", "total"],
        [(ids[k], site.id, f"p{pids[k]}", 1, 100_000) for k in range(len(ids))],
    )
    now = _text(np.array([np.datetime64("2026-01-01T00:00:00")]), text)[0]
    insert_rows(
        Product,
        ["site", "source", "external_id", "name", "price", "categories", "updated_at"],
        [
            (
                site.id,
                "woocommerce",
                f"p{i}",
                f"Product {i}",
                (10 + i) * MONEY_SCALE,
                f'["cat{i % 4}"]',
                now,
            )
            for i in range(shape.products)
        ],
    )


def _refunds(
    site: Any,
    shape: StoreShape,
    order_ids: list[int],
    moments: np.ndarray,
    totals: np.ndarray,
    text: bool,
) -> dict[int, float]:
    rng = np.random.default_rng(shape.seed + 3)
    picked = np.flatnonzero(rng.random(len(order_ids)) < shape.refund_share)
    amounts = np.round(totals[picked] * rng.choice([0.5, 1.0], picked.size), 2)
    at = _text(moments[picked] + np.timedelta64(3 * 86_400, "s"), text)
    units = _units(amounts)
    insert_rows(
        Refund,
        ["site", "source", "external_id", "order_external_id", "order", "amount", "created_at"],
        [
            (
                site.id,
                "woocommerce",
                f"r{k}",
                f"o{int(picked[j])}",
                order_ids[picked[j]],
                units[j],
                at[j],
            )
            for j, k in enumerate(picked.tolist())
        ],
    )
    return {int(picked[j]): float(amounts[j]) for j in range(picked.size)}
