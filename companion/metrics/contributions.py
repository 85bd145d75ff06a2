"""What one order adds to the roll-ups, as plain data (no database): the unit of every delta.

An order's contribution depends on its row, its refunds, its items and its attribution. The
incremental step subtracts the contribution before a change and adds the one after it; the
rebuild computes the same sums with GROUP BY. Keep the two in step (the equality test checks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from companion.core.days import local_day

KEY_LENGTH = 191
ORDER_DIMENSIONS = (
    "channel",
    "payment_method",
    "device",
    "email",
    "email_flow",
    "email_step",
    "email_campaign",
    "recovered",
)
ITEM_DIMENSIONS = ("product", "category")

Contribution = dict[tuple[Any, ...], dict[str, Any]]


def channel_of(source_type: str | None, utm_source: str | None) -> str:
    """The order's channel: its attribution source type, with the utm source when there is one."""
    kind = source_type or "(none)"
    return f"{kind} / {utm_source}"[:KEY_LENGTH] if utm_source else kind[:KEY_LENGTH]


def order_keys(row: Mapping[str, Any], attribution: Mapping[str, Any] | None) -> dict[str, str]:
    """The group of an order in each order-level dimension (absent: the order is in none)."""
    keys = {
        "channel": channel_of(row.get("source_type"), row.get("utm_source")),
        "payment_method": (row.get("payment_method") or "(none)")[:KEY_LENGTH],
        "device": (row.get("device") or "(unknown)")[:KEY_LENGTH],
    }
    attribution = attribution or {}
    if attribution.get("message_uuid"):
        keys["email"] = "attributed"
        if attribution.get("flow_key"):
            keys["email_flow"] = attribution["flow_key"]
            keys["email_step"] = step_key(attribution["flow_key"], attribution.get("step"))
        if attribution.get("campaign"):
            keys["email_campaign"] = attribution["campaign"][:KEY_LENGTH]
    if attribution.get("recovered"):
        keys["recovered"] = "recovered"
    return keys


def step_key(flow_key: str, step: int | None) -> str:
    return f"{flow_key}:{step if step is not None else '-'}"


def is_in_rollups(row: Mapping[str, Any] | None) -> bool:
    return row is not None and bool(row["is_counted"]) and row.get("deleted_at") is None


def contribution(
    row: Mapping[str, Any] | None,
    refunds: Iterable[Mapping[str, Any]],
    items: Iterable[Mapping[str, Any]],
    attribution: Mapping[str, Any] | None,
    tz: str,
    out: Contribution | None = None,
    sign: int = 1,
) -> Contribution:
    """Roll-up rows (key -> values) this order adds; empty when it is not a counted order.

    With `out`, the values (times `sign`: -1 takes a contribution off) are added to its rows
    instead: a batch sums its orders' deltas straight into one total."""
    if out is None:
        out = {}
    if not is_in_rollups(row):
        return out
    assert row is not None
    refunds = list(refunds)
    day, currency = local_day(row["counted_at"], tz), row["currency"]
    refunded = sum((Decimal(r["amount"]) for r in refunds), Decimal(0))
    revenue = Decimal(row["total"])
    placed = (
        ("orders", sign),
        ("revenue", -revenue if sign < 0 else revenue),
        ("refunded_orders", sign if refunds else 0),
        ("placed_refunds", -refunded if sign < 0 else refunded),
    )
    keys = order_keys(row, attribution)
    _add(out, ("daily", day, currency), placed)
    for dimension, key in keys.items():
        _add(out, ("dim", day, currency, dimension, key), placed)
    for refund in refunds:
        refund_day, amount = local_day(refund["created_at"], tz), Decimal(refund["amount"])
        refunds_value = (("refunds", -amount if sign < 0 else amount),)
        _add(out, ("daily", refund_day, currency), refunds_value)
        for dimension, key in keys.items():
            _add(out, ("dim", refund_day, currency, dimension, key), refunds_value)
    _add_items(out, day, currency, items, sign if refunds else 0, sign)
    return out


def _add_items(
    out: Contribution,
    day: Any,
    currency: str,
    items: Iterable[Mapping[str, Any]],
    refunded: int,
    sign: int,
) -> None:
    seen: set[tuple[str, str]] = set()
    for item in items:
        revenue = Decimal(item["total"])
        values_first = (
            ("orders", sign),
            ("refunded_orders", refunded),
            ("revenue", -revenue if sign < 0 else revenue),
            ("quantity", sign * int(item["quantity"])),
        )
        values_again = (("orders", 0), ("refunded_orders", 0), *values_first[2:])
        groups = [("product", str(item.get("product_id") or "(none)")[:KEY_LENGTH])]
        if categories := item.get("categories"):
            groups += [("category", str(c)[:KEY_LENGTH]) for c in dict.fromkeys(categories)]
        for group in groups:
            first = group not in seen
            seen.add(group)
            _add(out, ("dim", day, currency, *group), values_first if first else values_again)


def _add(out: Contribution, key: tuple[Any, ...], values: tuple[tuple[str, Any], ...]) -> None:
    target = out.get(key)
    if target is None:
        out[key] = dict(values)
        return
    for name, value in values:
        target[name] = target.get(name, 0) + value
