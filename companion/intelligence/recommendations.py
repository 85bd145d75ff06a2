"""Bought-together pairs (stored by the refresh) and upsell candidates, for the API and the flows.

`recommendations_for(site_id, product_ids, limit)` and `upsell_candidates(site_id, product_id,
limit)` are what the cross-sell flow calls; both answer plain dicts with the store's product ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from peewee import fn

from companion.intelligence.maths.basket import Pairs, bought_together
from companion.intelligence.summary import counted
from companion.intelligence.writeback import insert_rows
from companion.models import Order, OrderItem, Product
from companion.models.intelligence import ProductPair

MIN_ORDERS = 2  # a pair seen in a single order says nothing
PARTNERS_KEPT = 50  # per product, strongest lift first


def order_lines(site_id: int, as_of: datetime) -> tuple[np.ndarray, list[str]]:
    """(order id, product index) of every counted order line with a product, and the product ids."""
    lines = list(
        OrderItem.select(OrderItem.order, OrderItem.product_id)
        .join(Order)
        .where(counted(site_id, as_of) & OrderItem.product_id.is_null(False))
        .tuples()
    )
    if not lines:
        return np.zeros((0, 2), dtype=np.int64), []
    ids, index = np.unique(
        np.array([p for _, p in lines], dtype=object).astype(str), return_inverse=True
    )
    return np.column_stack([np.array([o for o, _ in lines], dtype=np.int64), index]), ids.tolist()


def refresh_pairs(site_id: int, as_of: datetime) -> int:
    """Recompute the site's pairs from all counted orders by `as_of`; returns pairs stored (per
    direction)."""
    lines, ids = order_lines(site_id, as_of)
    found = bought_together(lines[:, 0], lines[:, 1], min_count=MIN_ORDERS) if len(ids) else None
    rows = _directed_rows(site_id, found, ids) if found is not None else []
    ProductPair.delete().where(ProductPair.site == site_id).execute()
    insert_rows(
        ProductPair, ["site", "product", "partner", "orders", "support", "confidence", "lift"], rows
    )
    return len(rows)


def _directed_rows(site_id: int, pairs: Pairs, ids: list[str]) -> list[tuple[Any, ...]]:
    name = np.asarray(ids, dtype=object)
    a, b = name[pairs.product_a], name[pairs.product_b]
    both = [
        (
            site_id,
            a[k],
            b[k],
            int(pairs.count[k]),
            float(pairs.support[k]),
            float(pairs.confidence_a_to_b[k]),
            float(pairs.lift[k]),
        )
        for k in range(len(pairs))
    ]
    both += [
        (
            site_id,
            b[k],
            a[k],
            int(pairs.count[k]),
            float(pairs.support[k]),
            float(pairs.confidence_b_to_a[k]),
            float(pairs.lift[k]),
        )
        for k in range(len(pairs))
    ]
    kept: dict[str, int] = {}
    rows = []
    for row in both:  # already strongest lift first
        if kept.get(row[1], 0) < PARTNERS_KEPT:
            kept[row[1]] = kept.get(row[1], 0) + 1
            rows.append(row)
    return rows


def bought_with(site_id: int, product_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """ "Bought this, also bought": partners with orders together, support, confidence and lift."""
    p = ProductPair
    query = (
        p.select()
        .where(p.site == site_id, p.product == product_id)
        .order_by(p.lift.desc(), p.orders.desc(), p.partner)
        .limit(limit)
    )
    found = [
        {
            "product_id": r.partner,
            "orders": r.orders,
            "support": r.support,
            "confidence": r.confidence,
            "lift": r.lift,
        }
        for r in query
    ]
    return _with_products(site_id, found)


def recommendations_for(
    site_id: int, product_ids: list[str], limit: int = 3
) -> list[dict[str, Any]]:
    """Products most often bought with any of these (best lift per partner), never one of them."""
    if not product_ids:
        return []
    p = ProductPair
    best: dict[str, dict[str, Any]] = {}
    for r in p.select().where(
        p.site == site_id, p.product.in_(product_ids), p.partner.not_in(product_ids)
    ):
        row = {
            "product_id": r.partner,
            "because_of": r.product,
            "orders": r.orders,
            "support": r.support,
            "confidence": r.confidence,
            "lift": r.lift,
        }
        if r.partner not in best or (row["lift"], row["orders"]) > (
            best[r.partner]["lift"],
            best[r.partner]["orders"],
        ):
            best[r.partner] = row
    ranked = sorted(best.values(), key=lambda r: (-r["lift"], -r["orders"], r["product_id"]))[
        :limit
    ]
    return _with_products(site_id, ranked)


def upsell_candidates(site_id: int, product_id: str, limit: int = 3) -> list[dict[str, Any]]:
    """Same category, higher price, bought by customers who bought this product (most such buyers
    first)."""
    product = Product.get_or_none(Product.site == site_id, Product.external_id == product_id)
    if product is None or product.price is None or not product.categories:
        return []
    categories = set(product.categories)
    dearer = {
        c.external_id: c
        for c in Product.select().where(
            Product.site == site_id,
            Product.price > product.price,
            Product.external_id != product_id,
        )
        if categories & set(c.categories or [])
    }
    counts = _similar_buyers(site_id, product_id, list(dearer)) if dearer else {}
    ranked = sorted(counts, key=lambda pid: (-counts[pid], dearer[pid].price, pid))[:limit]
    return [{**_describe(dearer[pid]), "buyers": counts[pid]} for pid in ranked]


def _similar_buyers(site_id: int, product_id: str, candidates: list[str]) -> dict[str, int]:
    """Per candidate: how many customers who bought `product_id` also bought it (counted orders)."""
    buyers = (
        Order.select(Order.contact)
        .join(OrderItem)
        .where(counted(site_id) & (OrderItem.product_id == product_id))
    )
    query = (
        OrderItem.select(OrderItem.product_id, fn.COUNT(Order.contact.distinct()))
        .join(Order)
        .where(counted(site_id) & Order.contact.in_(buyers) & OrderItem.product_id.in_(candidates))
        .group_by(OrderItem.product_id)
        .tuples()
    )
    return {pid: int(n) for pid, n in query if n}


def _describe(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.external_id,
        "name": product.name,
        "price": product.price,
        "url": product.url,
        "image": product.image,
        "categories": product.categories or [],
    }


def _with_products(site_id: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [r["product_id"] for r in rows]
    known = {
        p.external_id: p
        for p in Product.select().where(
            Product.site == site_id, Product.external_id.in_(ids or [""])
        )
    }
    blank: dict[str, Any] = {
        "name": None,
        "price": None,
        "url": None,
        "image": None,
        "categories": [],
    }
    return [
        {**(_describe(known[r["product_id"]]) if r["product_id"] in known else blank), **r}
        for r in rows
    ]
