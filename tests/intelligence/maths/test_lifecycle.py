from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from companion.intelligence.maths.lifecycle import (
    LifecycleRules,
    lifecycle_stages,
    typical_reorder_interval,
)


def store(extra: Sequence[tuple[float, float, float, float]]) -> tuple[np.ndarray, ...]:
    """100 ordinary repeat customers ordering every ~30 days, plus the rows under test."""
    rng = np.random.default_rng(5)
    n = rng.integers(2, 5, 100).astype(float)
    last = rng.uniform(0, 40, 100)
    first = last + 30.0 * (n - 1)
    spend = rng.uniform(20, 100, 100)
    rows = np.array(extra, dtype=float).reshape(-1, 4)
    return (
        np.concatenate([n, rows[:, 0]]),
        np.concatenate([first, rows[:, 1]]),
        np.concatenate([last, rows[:, 2]]),
        np.concatenate([spend, rows[:, 3]]),
    )


def test_the_store_reorder_interval_is_the_median_gap_of_repeat_customers() -> None:
    n, first, last, _ = store([])
    assert typical_reorder_interval(n, first, last) == 30.0
    assert typical_reorder_interval([1, 1], [10, 20], [10, 20]) == 60.0  # nobody reordered yet


def test_stages_follow_the_documented_rules_without_predictions() -> None:
    n, first, last, spend = store(
        [
            (0, np.nan, np.nan, 0.0),  # lead
            (1, 10, 10, 40.0),  # new
            (1, 45, 45, 40.0),  # one_time
            (1, 70, 70, 40.0),  # at_risk: > 2 x 30 days
            (3, 300, 130, 90.0),  # churned: > 4 x 30 days
            (6, 400, 5, 5000.0),  # vip
            (6, 400, 100, 5000.0),  # a VIP gone quiet is at risk first
        ]
    )
    result = lifecycle_stages(n, first, last, spend)
    assert result.stage[-7:].tolist() == [
        "lead",
        "new",
        "one_time",
        "at_risk",
        "churned",
        "vip",
        "at_risk",
    ]
    assert result.reason[-4] == (
        "last order 70 days ago, over 2x the store's reorder interval of 30 days"
    )
    assert set(result.stage[:100].tolist()) <= {"repeat", "vip"}


def test_vip_is_the_top_five_percent_by_net_spend_with_two_orders() -> None:
    n, first, last, spend = store([(1, 40, 40, 10_000.0)])  # big spender, one order
    result = lifecycle_stages(n, first, last, spend)
    assert result.stage[-1] == "one_time"
    assert np.sum(result.stage == "vip") == 5  # 5 % of 101 customers with orders, rounded up
    assert np.all(spend[result.stage == "vip"] >= result.vip_threshold)


def test_predictions_decide_for_repeat_customers_when_given() -> None:
    n, first, last, spend = store([(4, 200, 20, 50.0)] * 4 + [(1, 200, 200, 40.0)])
    p_alive = np.full(n.size, np.nan)
    overdue = np.full(n.size, np.nan)
    p_alive[-5:-1] = [0.05, 0.3, 0.9, 0.9]
    overdue[-5:-1] = [0, 0, 30, 0]
    result = lifecycle_stages(
        n, first, last, spend, p_alive=p_alive, next_order_overdue_days=overdue
    )
    assert result.stage[-5:].tolist() == ["churned", "at_risk", "at_risk", "repeat", "churned"]
    assert result.reason[-5] == "P(alive) 0.05 < 0.10"
    assert result.reason[-3] == "expected next order 30 days overdue"


def test_thresholds_are_parameters() -> None:
    n, first, last, spend = store([(1, 50, 50, 40.0)])
    strict = lifecycle_stages(n, first, last, spend, rules=LifecycleRules(at_risk_intervals=1.5))
    assert strict.stage[-1] == "at_risk"
    assert lifecycle_stages(n, first, last, spend).stage[-1] == "one_time"
