"""Lifecycle stage of every contact, with the reason in words.

Rules, checked in this order (first match wins); all ages in days:

1. ``lead``: no counted order.
2. ``churned`` / 3. ``at_risk``: gone quiet. With predictions (data gate met, customer has
   repeat purchases): P(alive) < 0.10 is churned; P(alive) < 0.50, or more than
   ``overdue_grace_days`` past the expected next order, is at risk. Otherwise (no predictions,
   or a one-time buyer, for whom BG/NBD's P(alive) is always 1): more than 4x the store's
   typical reorder interval since the last order is churned, more than 2x is at risk.
4. ``vip``: at least 2 orders and net spend in the store's top 5% (``vip_share``).
5. ``new``: first order at most ``new_days`` (30) ago.
6. ``repeat``: at least 2 orders.
7. ``one_time``: exactly one order.

The typical reorder interval is the median over repeat customers of
(last order - first order) / (orders - 1), at least ``min_interval_days``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
STAGES = ("lead", "new", "one_time", "repeat", "vip", "at_risk", "churned")


@dataclass(frozen=True)
class LifecycleRules:
    new_days: float = 30.0
    vip_share: float = 0.05
    vip_min_orders: int = 2
    churn_p_alive: float = 0.10
    at_risk_p_alive: float = 0.50
    overdue_grace_days: float = 14.0
    at_risk_intervals: float = 2.0
    churn_intervals: float = 4.0
    min_interval_days: float = 7.0
    default_interval_days: float = 60.0


@dataclass(frozen=True)
class Stages:
    stage: NDArray[np.str_]
    reason: list[str]
    interval_days: float
    vip_threshold: float


def typical_reorder_interval(
    order_count: ArrayLike,
    first_order_days_ago: ArrayLike,
    last_order_days_ago: ArrayLike,
    rules: LifecycleRules = LifecycleRules(),
) -> float:
    """Median mean-gap between orders over repeat customers (the store's reorder rhythm)."""
    n = np.asarray(order_count, dtype=float)
    span = np.asarray(first_order_days_ago, dtype=float) - np.asarray(last_order_days_ago, float)
    repeat = n >= 2
    if not np.any(repeat):
        return rules.default_interval_days
    gaps = span[repeat] / (n[repeat] - 1.0)
    return float(max(np.median(gaps), rules.min_interval_days))


def _vip_threshold(order_count: ArrayLike, net_spend: ArrayLike, share: float) -> float:
    """Net spend at the top ``share`` quantile of customers with orders."""
    n = np.asarray(order_count, dtype=float)
    spend = np.asarray(net_spend, dtype=float)[n > 0]
    if spend.size == 0:
        return float("inf")
    return float(np.quantile(spend, 1.0 - share, method="higher"))


def lifecycle_stages(
    order_count: ArrayLike,
    first_order_days_ago: ArrayLike,
    last_order_days_ago: ArrayLike,
    net_spend: ArrayLike,
    *,
    p_alive: ArrayLike | None = None,
    next_order_overdue_days: ArrayLike | None = None,
    rules: LifecycleRules = LifecycleRules(),
    interval_days: float | None = None,
    vip_threshold: float | None = None,
) -> Stages:
    """Stage and reason per contact. Leads may carry NaN order ages.

    ``p_alive`` and ``next_order_overdue_days`` (today minus the expected next order date)
    come from BG/NBD when the data gate is met; pass None otherwise. NaN entries in them mean
    "no prediction for this customer" and fall back to the interval rule.
    """
    n = np.asarray(order_count, dtype=float).ravel()
    first = np.asarray(first_order_days_ago, dtype=float).ravel()
    last = np.asarray(last_order_days_ago, dtype=float).ravel()
    spend = np.asarray(net_spend, dtype=float).ravel()
    alive = _optional(p_alive, n.size)
    overdue = _optional(next_order_overdue_days, n.size)
    interval = (
        typical_reorder_interval(n, first, last, rules) if interval_days is None else interval_days
    )
    vip_at = _vip_threshold(n, spend, rules.vip_share) if vip_threshold is None else vip_threshold
    masks = _stage_masks(n, first, last, spend, alive, overdue, interval, vip_at, rules)
    stage = np.select([m for _, m in masks], [name for name, _ in masks], default="one_time")
    stage = stage.astype("<U8")
    values = {"n": n, "first": first, "last": last, "spend": spend, "p": alive, "over": overdue}
    return Stages(stage, _reasons(stage, masks, values, interval, vip_at, rules), interval, vip_at)


def _optional(values: ArrayLike | None, size: int) -> FloatArray:
    if values is None:
        return np.full(size, np.nan)
    return np.asarray(values, dtype=float).ravel()


def _stage_masks(
    n: FloatArray,
    first: FloatArray,
    last: FloatArray,
    spend: FloatArray,
    alive: FloatArray,
    overdue: FloatArray,
    interval: float,
    vip_at: float,
    rules: LifecycleRules,
) -> list[tuple[str, NDArray[np.bool_]]]:
    """(stage, mask) in precedence order; np.select takes the first true one."""
    modelled = (n >= 2) & ~np.isnan(alive)
    by_interval = (n >= 1) & ~modelled
    with np.errstate(invalid="ignore"):
        return [
            ("lead", n < 1),
            ("churned", modelled & (alive < rules.churn_p_alive)),
            ("churned", by_interval & (last > rules.churn_intervals * interval)),
            ("at_risk", modelled & (alive < rules.at_risk_p_alive)),
            ("at_risk", modelled & (overdue > rules.overdue_grace_days)),
            ("at_risk", by_interval & (last > rules.at_risk_intervals * interval)),
            ("vip", (n >= rules.vip_min_orders) & (spend >= vip_at)),
            ("new", first <= rules.new_days),
            ("repeat", n >= 2),
        ]


def _reasons(
    stage: NDArray[np.str_],
    masks: list[tuple[str, NDArray[np.bool_]]],
    v: dict[str, FloatArray],
    interval: float,
    vip_at: float,
    rules: LifecycleRules,
) -> list[str]:
    templates = [
        lambda i: "no counted order yet",
        lambda i: f"P(alive) {v['p'][i]:.2f} < {rules.churn_p_alive:.2f}",
        lambda i: (
            f"last order {v['last'][i]:.0f} days ago, over {rules.churn_intervals:g}x "
            f"the store's reorder interval of {interval:.0f} days"
        ),
        lambda i: f"P(alive) {v['p'][i]:.2f} < {rules.at_risk_p_alive:.2f}",
        lambda i: f"expected next order {v['over'][i]:.0f} days overdue",
        lambda i: (
            f"last order {v['last'][i]:.0f} days ago, over {rules.at_risk_intervals:g}x "
            f"the store's reorder interval of {interval:.0f} days"
        ),
        lambda i: (
            f"net spend {v['spend'][i]:.2f} in the top {rules.vip_share:.0%} (>= {vip_at:.2f})"
        ),
        lambda i: f"first order {v['first'][i]:.0f} days ago (<= {rules.new_days:g})",
        lambda i: f"{v['n'][i]:.0f} orders, last {v['last'][i]:.0f} days ago",
        lambda i: f"one order, {v['last'][i]:.0f} days ago",
    ]
    rule_index = np.full(stage.size, len(templates) - 1)
    for k in range(len(masks) - 1, -1, -1):
        rule_index[masks[k][1]] = k
    return [templates[k](i) for i, k in enumerate(rule_index.tolist())]


vip_threshold = _vip_threshold  # public name; the keyword of lifecycle_stages shadows it there
