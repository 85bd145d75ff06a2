from __future__ import annotations

import numpy as np

from companion.intelligence.maths.rfm import RFM_SEGMENTS, assign_segments, rank_score, rfm_scores

# The vectors of rfm 0.3.0 (rsquaredacademy/rfm, R/rfm-segment.R and
# vignettes/rfm-introduction.Rmd), copied verbatim.
R_SEGMENT_NAMES = [
    "Champions",
    "Potential Loyalist",
    "Loyal Customers",
    "Promising",
    "New Customers",
    "Can't Lose Them",
    "At Risk",
    "Need Attention",
    "About To Sleep",
    "Lost",
]
R_RECENCY_LOWER = [5, 3, 2, 3, 4, 1, 1, 1, 2, 1]
R_RECENCY_UPPER = [5, 5, 4, 4, 5, 2, 2, 3, 3, 1]
R_FREQUENCY_LOWER = [5, 3, 2, 1, 1, 3, 2, 3, 1, 1]
R_FREQUENCY_UPPER = [5, 5, 4, 3, 3, 4, 5, 5, 3, 5]
R_MONETARY_LOWER = [5, 2, 2, 3, 1, 4, 4, 3, 1, 1]
R_MONETARY_UPPER = [5, 5, 4, 5, 5, 5, 5, 5, 4, 5]


def brute_force_score(values: list[float]) -> list[int]:
    """Quintile by counting, customer by customer: how many did strictly worse?"""
    n = len(values)
    return [1 + (5 * sum(1 for other in values if other < mine)) // n for mine in values]


def brute_force_recency(days_since: list[float]) -> list[int]:
    """Quintile from the top, customer by customer: how many ordered no more recently (self
    included)?"""
    n = len(days_since)
    return [-(-5 * sum(1 for other in days_since if other >= mine) // n) for mine in days_since]


def brute_force_segment(r: int, f: int, m: int) -> str:
    for i, name in enumerate(R_SEGMENT_NAMES):
        if (
            R_RECENCY_LOWER[i] <= r <= R_RECENCY_UPPER[i]
            and R_FREQUENCY_LOWER[i] <= f <= R_FREQUENCY_UPPER[i]
            and R_MONETARY_LOWER[i] <= m <= R_MONETARY_UPPER[i]
        ):
            return name
    return "Others"


def generated_customers(n: int = 600, seed: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    days_since_last = rng.integers(0, 365, n).astype(float)
    orders = rng.geometric(0.45, n)
    net_spend = np.round(orders * rng.gamma(2.0, 30.0, n), 2)
    net_spend[:40] = 0.0  # fully refunded customers: a block of ties
    return days_since_last, orders, net_spend


def test_the_segment_table_is_the_rfm_0_3_rule_table() -> None:
    assert [rule.name for rule in RFM_SEGMENTS] == R_SEGMENT_NAMES
    for i, rule in enumerate(RFM_SEGMENTS):
        assert rule.recency == (R_RECENCY_LOWER[i], R_RECENCY_UPPER[i])
        assert rule.frequency == (R_FREQUENCY_LOWER[i], R_FREQUENCY_UPPER[i])
        assert rule.monetary == (R_MONETARY_LOWER[i], R_MONETARY_UPPER[i])


def test_scores_and_segments_equal_a_brute_force_implementation() -> None:
    days, orders, spend = generated_customers()
    scores = rfm_scores(days, orders, spend)
    assert scores.r.tolist() == brute_force_recency(days.tolist())
    assert scores.f.tolist() == brute_force_score(orders.tolist())
    assert scores.m.tolist() == brute_force_score(spend.tolist())
    expected = [brute_force_segment(r, f, m) for r, f, m in zip(scores.r, scores.f, scores.m)]
    assert scores.segment.tolist() == expected


def test_every_score_combination_gets_the_first_matching_segment() -> None:
    grid = np.array([(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)])
    segments = assign_segments(grid[:, 0], grid[:, 1], grid[:, 2])
    assert segments.tolist() == [brute_force_segment(*row) for row in grid.tolist()]
    assert "Others" in segments.tolist()  # e.g. r=2, f=1, m=5 matches no rule


def test_the_most_recent_customers_get_recency_5() -> None:
    scores = rfm_scores([1, 400, 30, 200, 90], [1, 1, 1, 1, 1], [10, 10, 10, 10, 10])
    assert scores.r.tolist() == [5, 1, 4, 2, 3]


def test_customers_who_all_ordered_lately_are_recent_not_lost() -> None:
    assert rfm_scores([0], [1], [25.0]).segment.tolist() == [
        "New Customers"
    ]  # a shop's first customer
    young_shop = rfm_scores([0, 0, 1, 1, 2], [1, 1, 1, 1, 1], [10, 20, 30, 40, 50])
    assert (
        young_shop.r.tolist() == [5, 5, 3, 3, 1] and "Lost" not in young_shop.segment[:4].tolist()
    )
    assert rfm_scores([3, 3, 3], [1, 2, 3], [5, 5, 5]).r.tolist() == [5, 5, 5]


def test_customers_with_equal_values_get_equal_scores() -> None:
    days, orders, spend = generated_customers()
    scores = rfm_scores(days, orders, spend)
    for values, score in ((orders, scores.f), (spend, scores.m), (days, scores.r)):
        for value in np.unique(values):
            assert np.unique(score[values == value]).size == 1
    assert np.all(scores.m[:40] == 1)


def test_distinct_values_split_into_equal_quintiles() -> None:
    scores = rank_score(np.random.default_rng(0).permutation(1000))
    assert np.bincount(scores).tolist() == [0, 200, 200, 200, 200, 200]


def test_no_customers_gives_empty_scores() -> None:
    scores = rfm_scores([], [], [])
    assert scores.r.size == 0 and scores.segment.size == 0
