"""The AFTER_APPLY step: every batch adds its orders' and refunds' deltas to the roll-ups.

For each order the batch changed, gave a new refund or took a deleted refund from, the contribution
it had before the batch is subtracted and the one it has now is added, in additive upserts (no
read-modify-write), so any order of events (a refund before its order, a status changed twice, a
late snapshot, a refund deleted) ends in the same roll-ups as a rebuild.
"""

from __future__ import annotations

from typing import Any

from companion.core.bulk import among
from companion.core.days import month_of
from companion.core.db import is_mysql, is_postgres
from companion.ingest.batch import Batch
from companion.metrics import activity_rollups, attribution, customers
from companion.metrics.contributions import Contribution, contribution
from companion.metrics.upsert import add_totals
from companion.models import Order, OrderItem, Refund, Site
from companion.models.rollups import RollupDaily, RollupDimension, RollupDimensionMonth, UnitsChange

DAILY_KEYS = ("site", "day", "currency")
DIMENSION_KEYS = ("site", "day", "currency", "dimension", "key")
MONTH_KEYS = ("site", "month", "currency", "dimension", "key")


def apply_rollups(batch: Batch) -> None:
    """Bring the roll-ups of this batch's site up to date with what the batch changed."""
    site = Site.get_by_id(batch.site_id)
    befores = _befores(batch)
    new_refunds = _new_refund_orders(batch.new_refund_ids)
    order_ids = sorted(set(befores) | set(new_refunds) | set(batch.deleted_refunds))
    nows = _apply_orders(site, batch, befores, order_ids) if order_ids else {}
    customers.apply_order_changes(site, [(before, nows.get(i)) for i, before in befores.items()])
    activity_rollups.refresh_for_batch(site, batch)


def _befores(batch: Batch) -> dict[int, dict[str, Any] | None]:
    """Each changed order's row before the batch (the first change's before wins)."""
    befores: dict[int, dict[str, Any] | None] = {}
    for before, after in batch.order_changes:
        order_id = (after or before or {}).get("id")
        if order_id is not None and order_id not in befores:
            befores[order_id] = before
    return befores


def _new_refund_orders(refund_ids: list[int]) -> dict[int, set[int]]:
    by_order: dict[int, set[int]] = {}
    for start in range(0, len(refund_ids), 500):
        for refund_id, order_id in (
            Refund.select(Refund.id, Refund.order)
            .where(among(Refund.id, refund_ids[start : start + 500]), Refund.order.is_null(False))
            .tuples()
        ):
            by_order.setdefault(order_id, set()).add(refund_id)
    return by_order


def _apply_orders(
    site: Site, batch: Batch, befores: dict[int, dict[str, Any] | None], order_ids: list[int]
) -> dict[int, dict[str, Any]]:
    """Add the orders' contribution deltas to the roll-ups; answers each order's row as it is now
    (absent: it no longer exists)."""
    nows = {i: batch.current_orders[i] for i in order_ids if i in batch.current_orders}
    nows.update(_locked_orders([i for i in order_ids if i not in nows]))
    refunds = _grouped(Refund, Refund.order, order_ids)
    items = {i: batch.current_items[i] for i in order_ids if i in batch.current_items}
    items.update(_grouped(OrderItem, OrderItem.order, [i for i in order_ids if i not in items]))
    old_attribution = attribution.stored(order_ids)
    changed = [nows[i] for i in befores if i in nows]
    new_attribution = {
        **old_attribution,
        **{i: {} for i in befores},
        **attribution.attribute(site, changed),
    }
    new_refund_ids = set(batch.new_refund_ids)
    total: Contribution = {}
    for order_id in order_ids:
        before = befores[order_id] if order_id in befores else nows.get(order_id)
        old_refunds = [
            r for r in refunds.get(order_id, []) if r["id"] not in new_refund_ids
        ] + batch.deleted_refunds.get(order_id, [])
        old_items = batch.replaced_items.get(order_id, items.get(order_id, []))
        # the delta is after - before: both added to the batch's total straight away
        contribution(
            nows.get(order_id),
            refunds.get(order_id, []),
            items.get(order_id, []),
            new_attribution.get(order_id),
            site.timezone,
            out=total,
        )
        contribution(
            before,
            old_refunds,
            old_items,
            old_attribution.get(order_id),
            site.timezone,
            out=total,
            sign=-1,
        )
    write(site.id, total)
    return nows


def write(site_id: int, total: Contribution) -> None:
    """Add a set of contribution deltas to the roll-up tables (each key of `total` once)."""
    daily: Contribution = {}
    dims: Contribution = {}
    months: Contribution = {}
    units_days: set[Any] = set()
    for key, values in total.items():
        if key[0] == "daily":
            daily[(site_id, *key[1:])] = values
            continue
        dims[(site_id, *key[1:])] = values
        month = months.setdefault((site_id, month_of(key[1]), *key[2:]), {})
        for name, value in values.items():
            month[name] = month.get(name, 0) + value
        if key[3] == "product" and values.get("quantity"):
            units_days.add(key[1])
    add_totals(RollupDaily, DAILY_KEYS, daily)
    add_totals(RollupDimension, DIMENSION_KEYS, dims)
    add_totals(RollupDimensionMonth, MONTH_KEYS, months)
    # stored product outlooks of later days whose eight weeks hold one of these days are out of
    # date
    add_totals(UnitsChange, ("site", "day"), {(site_id, d): {"changes": 1} for d in units_days})


def _locked_orders(ids: list[int]) -> dict[int, dict[str, Any]]:
    """The orders as they are now, locked until commit (PostgreSQL, MariaDB): a refund's delta and a
    concurrent change of its order are applied one after the other, never from the same old row."""
    lock = is_postgres() or is_mysql()
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        query = (
            Order.select()
            .where(among(Order.id, ids[start : start + 500]))
            .order_by(Order.id)
            .for_update(lock)
        )
        found.update({r["id"]: r for r in query.dicts()})
    return found


def _grouped(model: Any, field: Any, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), 500):
        for row in (
            model.select().where(among(field, ids[start : start + 500])).order_by(model.id).dicts()
        ):
            found.setdefault(row[field.name], []).append(row)
    return found
