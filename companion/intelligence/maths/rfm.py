"""RFM scores (1-5 by rank quintiles) and the CRAN ``rfm`` 0.3 segment rule table.

Scores are computed over customers with orders only. Frequency and monetary: a customer's score
is ``1 + floor(5 * below / n)`` where ``below`` is the number of customers with a strictly worse
value, so equal values get equal scores (the bottom of their block: a shop's many one-order
customers are not "frequent") and without ties this is exactly quintiles. Recency is scored from
the top: ``ceil(5 * at_most / n)`` where ``at_most`` counts the customers whose last order is no
more recent, so customers who ordered on the same day share the top score of their block, the most
recent customer always scores 5, and a young shop whose customers all ordered this week has nobody
"Lost" (with the bottom-of-block rule every one of them scored 1). Without ties this is quintiles
too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class SegmentRule:
    name: str
    recency: tuple[int, int]
    frequency: tuple[int, int]
    monetary: tuple[int, int]


# rsquaredacademy/rfm 0.3.0, R/rfm-segment.R (roxygen example of rfm_segment) and
# vignettes/rfm-introduction.Rmd: segment names with lower/upper score bounds, inclusive
# (dplyr::between), checked in this order; a customer keeps the first segment matched.
RFM_SEGMENTS: tuple[SegmentRule, ...] = (
    SegmentRule("Champions", (5, 5), (5, 5), (5, 5)),
    SegmentRule("Potential Loyalist", (3, 5), (3, 5), (2, 5)),
    SegmentRule("Loyal Customers", (2, 4), (2, 4), (2, 4)),
    SegmentRule("Promising", (3, 4), (1, 3), (3, 5)),
    SegmentRule("New Customers", (4, 5), (1, 3), (1, 5)),
    SegmentRule("Can't Lose Them", (1, 2), (3, 4), (4, 5)),
    SegmentRule("At Risk", (1, 2), (2, 5), (4, 5)),
    SegmentRule("Need Attention", (1, 3), (3, 5), (3, 5)),
    SegmentRule("About To Sleep", (2, 3), (1, 3), (1, 4)),
    SegmentRule("Lost", (1, 1), (1, 5), (1, 5)),
)
OTHERS = "Others"


@dataclass(frozen=True)
class RfmScores:
    r: IntArray
    f: IntArray
    m: IntArray
    segment: NDArray[np.str_]


def rank_score(values: ArrayLike, bins: int = 5) -> IntArray:
    """Score 1..bins by rank: higher value, higher score; equal values, equal score."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.all(np.isfinite(v)):
        raise ValueError("RFM values must be finite")
    below = np.searchsorted(np.sort(v), v, side="left")
    return (1 + (bins * below) // v.size).astype(np.int64)


def recency_score(days_since_last_order: ArrayLike, bins: int = 5) -> IntArray:
    """Score 1..bins, most recent highest; ties share the top score of their block."""
    recency = np.asarray(days_since_last_order, dtype=float).ravel()
    if recency.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.all(np.isfinite(recency)):
        raise ValueError("RFM values must be finite")
    at_most = recency.size - np.searchsorted(np.sort(recency), recency, side="left")
    return (-((-bins * at_most) // recency.size)).astype(np.int64)


def assign_segments(
    r: ArrayLike, f: ArrayLike, m: ArrayLike, rules: tuple[SegmentRule, ...] = RFM_SEGMENTS
) -> NDArray[np.str_]:
    """First matching rule's name per customer, "Others" when none matches."""
    r_, f_, m_ = (np.asarray(v, dtype=np.int64).ravel() for v in (r, f, m))
    width = max(len(OTHERS), *(len(rule.name) for rule in rules))
    segment = np.full(r_.size, OTHERS, dtype=f"<U{width}")
    open_ = np.ones(r_.size, dtype=bool)
    for rule in rules:
        hit = open_ & _within(r_, rule.recency) & _within(f_, rule.frequency)
        hit &= _within(m_, rule.monetary)
        segment[hit] = rule.name
        open_ &= ~hit
    return segment


def _within(values: IntArray, bounds: tuple[int, int]) -> NDArray[np.bool_]:
    return (values >= bounds[0]) & (values <= bounds[1])


def rfm_scores(
    days_since_last_order: ArrayLike, order_count: ArrayLike, net_spend: ArrayLike
) -> RfmScores:
    """R, F, M scores and segment for customers with orders (one entry per customer)."""
    r = recency_score(days_since_last_order)
    f = rank_score(order_count)
    m = rank_score(net_spend)
    if not (r.size == f.size == m.size):
        raise ValueError("recency, frequency and monetary arrays must have the same length")
    return RfmScores(r, f, m, assign_segments(r, f, m))
