"""Orders and refunds: snapshots applied last-write-wins, refunds once per refund id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from peewee import fn

from companion.core.bulk import among, execute_many, insert_rows, insert_values, update_by_id
from companion.core.db import is_mysql, is_postgres, param, quote
from companion.ingest.batch import Batch, Event
from companion.models import Cart, DeletedRefund, IssuedCoupon, Order, OrderItem, Refund
from companion.models.base import encode_json, money_from_units, to_naive_utc, to_units

# columns a new order row has that order_row leaves to their defaults
ORDER_DEFAULTS = {"refunded_total": Decimal(0)}
PLACED_STATUSES = ("pending", "on_hold", "processing", "completed", "refunded", "cancelled")


def is_counted(status: str, paid_at: datetime | None) -> bool:
    """Counted orders (DESIGN 4): processing or completed, or refunded after having been paid."""
    return status in ("processing", "completed") or (status == "refunded" and paid_at is not None)


def _time(value: datetime | None) -> datetime | None:
    return None if value is None else to_naive_utc(value)


def order_row(batch: Batch, event: Event) -> dict[str, Any]:
    d = event.data
    attribution = d.get("attribution") or {}
    paid_at, created_at = _time(d.get("paid_at")), _time(d["created_at"])
    return {
        "site": batch.site_id,
        "source": event.source,
        "external_id": d["id"],
        "number": d.get("number"),
        "status": d["status"],
        "currency": d["currency"],
        "total": d["total"],
        "subtotal": d.get("subtotal"),
        "discount_total": d.get("discount_total"),
        "tax_total": d.get("tax_total"),
        "shipping_total": d.get("shipping_total"),
        "coupons": d.get("coupons") or [],
        "payment_method": d.get("payment_method"),
        "created_via": d.get("created_via"),
        "device": d.get("device"),
        "cart_token": d.get("cart_token"),
        "source_type": attribution.get("source_type"),
        "utm_source": attribution.get("utm_source"),
        "utm_medium": attribution.get("utm_medium"),
        "utm_campaign": attribution.get("utm_campaign"),
        "click_id": attribution.get("click_id"),
        "parent_external_id": d.get("parent_id"),
        "is_renewal": bool(d.get("is_renewal")),
        "contact": batch.contact_for(event),
        "session_key": event.session_key,
        "created_at": created_at,
        "paid_at": paid_at,
        "completed_at": _time(d.get("completed_at")),
        "modified_at": _time(d["modified_at"]),
        "snapshot_seq": event.seq,
        "is_counted": is_counted(d["status"], paid_at),
        "counted_at": paid_at or created_at,
        "deleted_at": None,
    }


ITEM_FIELDS = (
    "order",
    "site",
    "product_id",
    "variation_id",
    "sku",
    "name",
    "quantity",
    "price",
    "total",
    "categories",
)


def item_values(
    site_id: int, order_id: int, event: Event
) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """An order's items as the roll-ups read them (the event's own item dicts, with the total
    filled in when the store sent none) and as `insert_values` writes them (the ITEM_FIELDS of each
    as the database takes them), built straight from the event data."""
    items: list[dict[str, Any]] = []
    values: list[tuple[Any, ...]] = []
    for item in event.data.get("items") or []:
        get = item.get
        price, total = get("price"), get("total")
        if total is None:
            total = (price or Decimal(0)) * item["quantity"]
            item = {**item, "total": total}
        items.append(item)
        categories = get("categories")
        values.append(
            (
                order_id,
                site_id,
                get("product_id"),
                get("variation_id"),
                get("sku"),
                get("name"),
                item["quantity"],
                to_units(price),
                to_units(total),
                encode_json(categories) if categories else "[]",
            )
        )
    return items, values


def _newest_snapshots(
    batch: Batch,
) -> tuple[dict[tuple[str, str], Event], dict[tuple[str, str], list[Event]]]:
    """Each order's newest snapshot in the batch, and its older ones there (oldest first)."""
    every: dict[tuple[str, str], list[Event]] = {}
    for event in batch.of_type("order.updated"):
        every.setdefault((event.source, event.data["id"]), []).append(event)
    newest: dict[tuple[str, str], Event] = {}
    earlier: dict[tuple[str, str], list[Event]] = {}
    for key, events in every.items():
        if len(events) > 1:
            events.sort(key=_version)
            earlier[key] = events[:-1]
        newest[key] = events[-1]
    return newest, earlier


def _as_applied_one_by_one(
    batch: Batch, stored: dict[str, Any] | None, earlier: list[Event]
) -> dict[str, Any] | None:
    """The order as the batch's older snapshots of it would have left it, applied one by one after
    `stored` (None: a new order). A batch applies only an order's newest snapshot; what an older
    one decided for good (the day the order was first counted, `_keep_counted`) is carried from
    here, so one pass over many deliveries ends where a pass per delivery would."""
    state = stored
    for event in earlier:
        modified = to_naive_utc(event.data["modified_at"])
        if state is not None:
            if (modified, event.seq) <= (state["modified_at"], state["snapshot_seq"]):
                continue
            if state.get("deleted_at") and modified <= state["deleted_at"]:
                continue
        row = order_row(batch, event)
        if state is not None:
            _keep_counted(state, row)
        state = row
    return state


def _version(event: Event) -> tuple[datetime, int]:
    return (to_naive_utc(event.data["modified_at"]), event.seq)


def by_source(keys: Iterable[tuple[str, str]], size: int = 500) -> Iterator[tuple[str, list[str]]]:
    """(source, up to `size` sorted external ids) for a set of (source, external id) keys."""
    keys = set(keys)
    for source in sorted({s for s, _ in keys}):
        ids = sorted(i for s, i in keys if s == source)
        for start in range(0, len(ids), size):
            yield source, ids[start : start + size]


def _existing_orders(
    site_id: int, keys: list[tuple[str, str]], lock: bool = False
) -> dict[tuple[str, str], dict[str, Any]]:
    """Stored orders by (source, external id). With lock (PostgreSQL, MariaDB) the rows stay locked
    until the batch commits, so the "before" row a batch records is the one it changes: a second
    worker changing the same order waits and then reads the first one's result."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    lock = lock and (is_postgres() or is_mysql())
    for source, ids in by_source(keys):
        query = Order.select().where(
            Order.site == site_id, Order.source == source, among(Order.external_id, ids)
        )
        if lock:  # rows locked in id order, as every worker does, so two batches cannot deadlock
            query = query.order_by(Order.id).for_update()
        # (No ORDER BY on SQLite: it would walk the site's (site) index in id order, every order of
        # the site, instead of looking the keys up.)
        found.update({(r["source"], r["external_id"]): r for r in query.dicts()})
    return found


def _insert_orders(
    site_id: int, rows: dict[tuple[str, str], dict[str, Any]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Insert new orders; their stored rows are the rows written plus the ids the insert returns,
    without reading them back. An order another worker inserted first is skipped by the insert
    and read (locked) instead."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for order_id, source, external_id in insert_rows(
        Order, list(rows.values()), ignore_conflicts=True, returning=("id", "source", "external_id")
    ):
        found[(source, external_id)] = {
            **ORDER_DEFAULTS,
            **rows[(source, external_id)],
            "id": order_id,
        }
    found.update(_existing_orders(site_id, [key for key in rows if key not in found], lock=True))
    return found


def apply_orders(batch: Batch) -> None:
    """Insert new orders, update stored ones whose snapshot is older; items follow their order."""
    newest, earlier = _newest_snapshots(batch)
    if not newest:
        return
    existing = _existing_orders(batch.site_id, list(newest), lock=True)
    fresh = {key: None for key in newest if key not in existing}  # a set, in the batch's order
    if fresh:
        existing.update(
            _insert_orders(
                batch.site_id, {k: _new_row(batch, newest[k], earlier.get(k, [])) for k in fresh}
            )
        )
    items: list[tuple[Any, ...]] = []
    replaced: list[int] = []
    for key, event in newest.items():
        stored = existing[key]
        if stored["snapshot_seq"] == event.seq and key in fresh:
            _record_change(batch, None, stored)
            items.extend(_items_of(batch, stored["id"], event))
        elif _update_if_newer(batch, stored, event, earlier.get(key, [])):
            replaced.append(stored["id"])
            items.extend(_items_of(batch, stored["id"], event))
    if replaced:
        _remember_items(batch, replaced)
        OrderItem.delete().where(among(OrderItem.order, replaced)).execute()
    insert_values(OrderItem, ITEM_FIELDS, items)
    _link_refunds(batch, {k: existing[k]["id"] for k in fresh if k in existing})
    _convert_carts(batch, [newest[k] for k in newest])
    _redeem_coupons(batch.site_id, {existing[k]["id"]: newest[k] for k in newest if k in existing})


def _redeem_coupons(site_id: int, events: dict[int, Event]) -> None:
    """An order that used a single-use code a flow issued (flows/coupons.py) redeems it. Codes are
    compared case-insensitively (WooCommerce lower-cases them). A code whose order no longer counts
    (cancelled, never paid) may be redeemed again: WooCommerce gives a cancelled order's coupon
    its use back. Whether a redemption counts is the order's: the report counts counted orders."""
    used = {
        str(code).upper(): order_id
        for order_id, event in events.items()
        for code in event.data.get("coupons") or []
    }
    if not used:
        return
    issued = list(
        IssuedCoupon.select(IssuedCoupon.id, IssuedCoupon.code, IssuedCoupon.order_id).where(
            IssuedCoupon.site == site_id, IssuedCoupon.code.in_(sorted(used))
        )
    )
    if not issued:
        return
    holders = {c.order_id for c in issued if c.order_id is not None}
    counted = {
        order_id
        for (order_id,) in Order.select(Order.id)
        .where(Order.id.in_(sorted(holders) or [0]), Order.is_counted == True)
        .tuples()
    }
    for coupon in issued:
        order_id = used[coupon.code]
        if coupon.order_id not in (None, order_id) and coupon.order_id in counted:
            continue  # a counted order holds it; WooCommerce would not have let it be used twice
        data = events[order_id].data
        IssuedCoupon.update(
            order_id=order_id,
            redeemed_at=_time(data.get("created_at")),
            discount=data.get("discount_total"),
        ).where(IssuedCoupon.id == coupon.id).execute()


def _items_of(batch: Batch, order_id: int, event: Event) -> list[tuple[Any, ...]]:
    batch.current_items[order_id], values = item_values(batch.site_id, order_id, event)
    return values


def _remember_items(batch: Batch, order_ids: list[int]) -> None:
    for item in OrderItem.select().where(among(OrderItem.order, order_ids)).dicts():
        batch.replaced_items.setdefault(item["order"], []).append(item)


def _new_row(batch: Batch, event: Event, earlier: list[Event]) -> dict[str, Any]:
    row = order_row(batch, event)
    before = _as_applied_one_by_one(batch, None, earlier)
    if before is not None:
        _keep_counted(before, row)
    return row


def _update_if_newer(
    batch: Batch, stored: dict[str, Any], event: Event, earlier: list[Event]
) -> bool:
    row = order_row(batch, event)
    row.pop("site"), row.pop("source"), row.pop("external_id")
    modified, seq = row["modified_at"], row["snapshot_seq"]
    if stored.get("deleted_at") and modified <= stored["deleted_at"]:
        return False
    if row["contact"] is None:
        row["contact"] = stored["contact"]
    _keep_counted(_as_applied_one_by_one(batch, stored, earlier) or stored, row)
    changed = (
        Order.update(**row)
        .where(
            Order.id == stored["id"],
            (Order.modified_at < modified)
            | ((Order.modified_at == modified) & (Order.snapshot_seq < seq)),
        )
        .execute()
    )
    if changed:
        after = dict(stored, **row)
        _record_change(batch, stored, after)
    return bool(changed)


def _keep_counted(stored: dict[str, Any], row: dict[str, Any]) -> None:
    """An order once counted stays counted on the day it was first counted: refunded in full it is
    still a sale (its refunds count on their own days), even when the store never set a paid date
    (cash on delivery, bank transfer, cheque), and a paid date set later does not move its day."""
    if not stored.get("is_counted"):
        return
    if row["status"] == "refunded":
        row["is_counted"] = True
    if row["is_counted"]:
        row["counted_at"] = stored["counted_at"]
        row["paid_at"] = stored.get("paid_at") or row["paid_at"]


def _record_change(
    batch: Batch, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> None:
    batch.order_changes.append((before, after))
    if after:
        batch.current_orders[after["id"]] = after
    for row in (before, after):
        if row and row.get("contact"):
            batch.touched_contacts.add(row["contact"])


def _link_refunds(batch: Batch, orders: dict[tuple[str, str], int]) -> None:
    """Refunds that arrived before their order attach to it once it exists (orders: the new
    orders' ids by (source, external id))."""
    # One read finds the orders that have waiting refunds, so a batch of new orders without any
    # (the usual case) costs one query instead of one update per order.
    for source, external_id in sorted(_orphan_refund_keys(batch.site_id, list(orders))):
        order_id = orders[(source, external_id)]
        Refund.update(order=order_id).where(
            Refund.site == batch.site_id,
            Refund.source == source,
            Refund.order_external_id == external_id,
            Refund.order.is_null(),
        ).execute()
        batch.touched_orders.add(order_id)


def _orphan_refund_keys(site_id: int, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (source, order external id) have refunds waiting for their order: looked up
    by the whole (site, source, order external id) index, not a walk of the site's refunds."""
    found: set[tuple[str, str]] = set()
    for source, external_ids in by_source(keys):
        found.update(
            Refund.select(Refund.source, Refund.order_external_id)
            .distinct()
            .where(
                Refund.site == site_id,
                Refund.source == source,
                Refund.order.is_null(),
                among(Refund.order_external_id, external_ids),
            )
            .tuples()
        )
    return found


def _convert_carts(batch: Batch, events: list[Event]) -> None:
    """Carts stored before their order are converted now, and get the buyer (a guest's cart from
    the block checkout has no address until its order names it)."""
    tokens = {
        e.data["cart_token"]: e
        for e in events
        if e.data.get("cart_token") and e.data["status"] in PLACED_STATUSES
    }
    if not tokens:
        return
    orders = list(
        Order.select(Order.cart_token, Order.id, Order.contact)
        .where(Order.site == batch.site_id, among(Order.cart_token, list(tokens)))
        .tuples()
    )
    # Two prepared statements for the batch, run in the rows' order as the per-order updates were.
    table, p = quote(Cart._meta.table_name), param()
    status, converted, contact = (
        quote(f.column_name) for f in (Cart.status, Cart.converted_order, Cart.contact)
    )
    where = f"{quote(Cart.site.column_name)} = {p} AND {quote(Cart.token.column_name)} = {p}"
    execute_many(
        f"UPDATE {table} SET {status} = 'converted', {converted} = {p} WHERE {where}",
        [(order_id, batch.site_id, token) for token, order_id, _ in orders],
    )
    execute_many(
        f"UPDATE {table} SET {contact} = {p} WHERE {where} AND {contact} IS NULL",
        [(contact_id, batch.site_id, token) for token, _, contact_id in orders if contact_id],
    )


def apply_refund_deletes(batch: Batch) -> None:
    """A refund the store deleted stops counting: its row goes (the roll-ups take its contribution
    off, from batch.deleted_refunds) and a tombstone stays, so an `order.refunded` for it that comes
    later, or earlier in this batch, is not kept (apply_refunds). A repeat, or the deletion of a
    refund never received, changes nothing but the tombstone.

    Against a worker storing the same refund at this moment (PostgreSQL, MariaDB, READ COMMITTED):
    a placeholder refund row is inserted under the refund's key and deleted again. Its insert
    waits for the other worker's uncommitted insert of that key; then the refund is visible here
    and deleted. Had this insert come first, the other worker's insert waits for this commit and
    then sees the tombstone (apply_refunds checks after inserting)."""
    events = {
        (e.source, e.data["refund_id"]): e
        for e in [*batch.unlisted_refunds, *batch.of_type("order.refund_deleted")]
    }
    if not events:
        return
    keyed = sorted(events.items())
    insert_rows(
        DeletedRefund,
        [
            {
                "site": batch.site_id,
                "source": s,
                "external_id": rid,
                "order_external_id": e.data["order_id"],
                "deleted_at": e.occurred_at,
            }
            for (s, rid), e in keyed
        ],
        ignore_conflicts=True,
    )
    placeholders = {
        row[0]
        for row in insert_rows(
            Refund,
            [
                {
                    "site": batch.site_id,
                    "source": s,
                    "external_id": rid,
                    "order_external_id": e.data["order_id"],
                    "order": None,
                    "amount": Decimal(0),
                    "reason": None,
                    "created_at": e.occurred_at,
                }
                for (s, rid), e in keyed
            ],
            ignore_conflicts=True,
            returning=("id",),
        )
    }
    lock = is_postgres() or is_mysql()
    gone: list[dict[str, Any]] = []
    for source, ids in by_source(events):
        query = Refund.select().where(
            Refund.site == batch.site_id, Refund.source == source, among(Refund.external_id, ids)
        )
        gone.extend(query.order_by(Refund.id).for_update(lock).dicts() if lock else query.dicts())
    if not gone:
        return
    Refund.delete().where(among(Refund.id, sorted(r["id"] for r in gone))).execute()
    gone = [r for r in gone if r["id"] not in placeholders]
    order_ids = sorted({r["order"] for r in gone if r["order"] is not None})
    for row in gone:
        if row["order"] is not None:
            batch.deleted_refunds.setdefault(row["order"], []).append(row)
    batch.touched_orders.update(order_ids)
    if order_ids:
        batch.touched_contacts.update(
            contact
            for (contact,) in Order.select(Order.contact)
            .where(among(Order.id, order_ids), Order.contact.is_null(False))
            .tuples()
        )


def _deleted_refund_keys(site_id: int, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (source, refund external id) the store deleted."""
    found: set[tuple[str, str]] = set()
    for source, ids in by_source(keys):
        found.update(
            DeletedRefund.select(DeletedRefund.source, DeletedRefund.external_id)
            .where(
                DeletedRefund.site == site_id,
                DeletedRefund.source == source,
                among(DeletedRefund.external_id, ids),
            )
            .tuples()
        )
    return found


def apply_refunds(batch: Batch) -> None:
    """Each refund id is stored once; its order's refunded total is recomputed from all refunds.
    A refund the store deleted (a tombstone, apply_refund_deletes) is deleted again at once."""
    events = {(e.source, e.data["refund_id"]): e for e in batch.of_type("order.refunded")}
    if not events:
        return
    orders = _existing_orders(
        batch.site_id, [(s, e.data["order_id"]) for (s, _), e in events.items()]
    )
    rows = [
        {
            "site": batch.site_id,
            "source": s,
            "external_id": rid,
            "order_external_id": e.data["order_id"],
            "order": (orders.get((s, e.data["order_id"])) or {}).get("id"),
            "amount": e.data["amount"],
            "reason": e.data.get("reason"),
            "created_at": to_naive_utc(e.data["created_at"]),
        }
        for (s, rid), e in events.items()
    ]
    _insert_refunds(batch, rows)
    for order in orders.values():
        batch.touched_orders.add(order["id"])
        if order.get("contact"):
            batch.touched_contacts.add(order["contact"])


def _insert_refunds(batch: Batch, rows: list[dict[str, Any]]) -> None:
    """Store the refunds not stored yet and remember which were new: the insert skips refunds
    already stored (another worker may be inserting the same one) and returns the ids of exactly
    the rows it stored. In key order, so two workers' inserts cannot deadlock. A new one the store
    has deleted (a tombstone, committed before this insert could go on) is deleted again: checked
    after the insert, so a deletion applied at the same moment is never missed."""
    ordered = sorted(rows, key=lambda r: (r["source"], r["external_id"]))
    new = {
        (source, external_id): refund_id
        for refund_id, source, external_id in insert_rows(
            Refund, ordered, ignore_conflicts=True, returning=("id", "source", "external_id")
        )
    }
    if not new:
        return
    dead = sorted(new.pop(key) for key in _deleted_refund_keys(batch.site_id, new))
    if dead:
        Refund.delete().where(among(Refund.id, dead)).execute()
    batch.new_refund_ids.extend(sorted(new.values()))


def refresh_refunded_totals(order_ids: set[int]) -> None:
    ids = sorted(order_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sums = dict(
            Refund.select(Refund.order, fn.SUM(Refund.amount).coerce(False))
            .where(among(Refund.order, chunk))
            .group_by(Refund.order)
            .tuples()
        )
        update_by_id(
            Order,
            {
                order_id: {"refunded_total": money_from_units(sums.get(order_id, 0))}
                for order_id in chunk
            },
            ("refunded_total",),
        )


def apply_deletes(batch: Batch) -> None:
    """A deleted order stops counting; a later snapshot (restored from trash) brings it back."""
    for event in batch.of_type("order.deleted"):
        stored = (
            Order.select()
            .where(
                Order.site == batch.site_id,
                Order.source == event.source,
                Order.external_id == event.data["order_id"],
            )
            .for_update(is_postgres() or is_mysql())
            .dicts()
            .first()
        )
        if stored is None or stored["deleted_at"] or stored["modified_at"] > event.occurred_at:
            continue
        Order.update(deleted_at=event.occurred_at, is_counted=False).where(
            Order.id == stored["id"]
        ).execute()
        _record_change(batch, stored, dict(stored, deleted_at=event.occurred_at, is_counted=False))
