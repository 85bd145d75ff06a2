"""From a customer summary to every customer's RFM, stage and predictions (vectorised, no SQL).

`score_customers` is what the nightly refresh runs over all customers of a site; it also returns
the `ScoringModel` (RFM thresholds, fits, reorder interval, VIP threshold) that `score_few` uses
to score a handful of customers at once when a new order arrives, without re-ranking everyone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from companion.intelligence.maths import bgnbd, gammagamma
from companion.intelligence.maths.gate import data_gate
from companion.intelligence.maths.lifecycle import lifecycle_stages
from companion.intelligence.maths.rfm import assign_segments, rfm_scores
from companion.intelligence.summary import DAY_S, CustomerSummary

FloatArray = NDArray[np.float64]


@dataclass
class ScoringModel:
    """What a refresh learnt about the store, enough to score one more customer the same way."""

    gate_met: bool
    gate_reason: str
    rfm_thresholds: dict[str, list[float]]  # per dimension: lowest value reaching score 2..5
    interval_days: float
    vip_threshold: float
    bgnbd: dict[str, Any] | None = None
    gamma_gamma: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["vip_threshold"] = None if not np.isfinite(self.vip_threshold) else self.vip_threshold
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoringModel:
        values = dict(data)
        values["vip_threshold"] = (
            float("inf") if values.get("vip_threshold") is None else values["vip_threshold"]
        )
        return cls(**values)


@dataclass
class Scores:
    contact_id: NDArray[np.int64]
    r: NDArray[np.int64]
    f: NDArray[np.int64]
    m: NDArray[np.int64]
    segment: NDArray[np.str_]
    stage: NDArray[np.str_]
    reason: list[str]
    p_alive: FloatArray  # NaN where no prediction
    expected_90: FloatArray
    expected_365: FloatArray
    next_order_at: NDArray[np.datetime64]  # NaT where no prediction
    clv_365: FloatArray


@dataclass(frozen=True)
class _Arrays:
    """BG/NBD inputs in days: repeat purchases, first-to-last span, age; mean repeat net spend."""

    x: FloatArray
    t_x: FloatArray
    age: FloatArray
    m: FloatArray
    recency_days: FloatArray  # days since the last order


def arrays(s: CustomerSummary) -> _Arrays:
    x = s.orders - 1.0
    age = s.days_before_as_of(s.first_at)
    recency = s.days_before_as_of(s.last_at)
    repeat_net = np.maximum(s.net - s.first_gross, 0.0)  # refunds all come off the repeat spend
    m = np.where(x > 0, repeat_net / np.maximum(x, 1.0), 0.0)
    return _Arrays(
        x, np.maximum(age - recency, 0.0), np.maximum(age, 0.0), m, np.maximum(recency, 0.0)
    )


def score_customers(s: CustomerSummary) -> tuple[Scores, ScoringModel]:
    """RFM, stages and (above the data gate) predictions for every customer in the summary."""
    a = arrays(s)
    rfm = rfm_scores(whole_days(a.recency_days), s.orders, s.net)
    ok, reason = data_gate(s.size, s.history_days)
    model = ScoringModel(
        ok, reason, _thresholds(whole_days(a.recency_days), s.orders, s.net), 0.0, float("inf")
    )
    if ok:
        _fit(a, model)
    preds = _predict(model, a, s)
    stages = lifecycle_stages(
        s.orders, a.age, a.recency_days, s.net, p_alive=preds[0], next_order_overdue_days=preds[4]
    )
    model.interval_days, model.vip_threshold = stages.interval_days, stages.vip_threshold
    return Scores(
        s.contact_id,
        rfm.r,
        rfm.f,
        rfm.m,
        rfm.segment,
        stages.stage,
        stages.reason,
        preds[0],
        preds[1],
        preds[2],
        preds[3],
        preds[5],
    ), model


def score_few(s: CustomerSummary, model: ScoringModel) -> Scores:
    """Score a few customers against the store-wide thresholds and fits of the last refresh."""
    a = arrays(s)
    r = _threshold_score(-whole_days(a.recency_days), model.rfm_thresholds["r"])
    f = _threshold_score(s.orders, model.rfm_thresholds["f"])
    m = _threshold_score(s.net, model.rfm_thresholds["m"])
    preds = _predict(model, a, s)
    stages = lifecycle_stages(
        s.orders,
        a.age,
        a.recency_days,
        s.net,
        p_alive=preds[0],
        next_order_overdue_days=preds[4],
        interval_days=model.interval_days,
        vip_threshold=model.vip_threshold,
    )
    return Scores(
        s.contact_id,
        r,
        f,
        m,
        assign_segments(r, f, m),
        stages.stage,
        stages.reason,
        preds[0],
        preds[1],
        preds[2],
        preds[3],
        preds[5],
    )


def whole_days(days: FloatArray) -> FloatArray:
    """RFM recency counts whole days: customers who ordered the same day are equally recent (in
    fractional days the earliest of a young shop's orders today ranked 'Lost')."""
    return np.floor(days)


def _thresholds(
    recency_days: FloatArray, orders: FloatArray, net: FloatArray
) -> dict[str, list[float]]:
    rfm = rfm_scores(recency_days, orders, net)
    found = {}
    for key, values, scores in (
        ("r", -recency_days, rfm.r),
        ("f", orders, rfm.f),
        ("m", net, rfm.m),
    ):
        # A score nobody reached (a tie block on top) goes to whoever beats everybody.
        above_all = float(np.nextafter(values.max(), np.inf)) if values.size else float("inf")
        found[key] = [
            float(values[scores >= k].min()) if np.any(scores >= k) else above_all
            for k in range(2, 6)
        ]
    return found


def _threshold_score(values: FloatArray, thresholds: list[float]) -> NDArray[np.int64]:
    return 1 + np.searchsorted(np.asarray(thresholds), values, side="right").astype(np.int64)


def _fit(a: _Arrays, model: ScoringModel) -> None:
    try:
        fit = bgnbd.fit_bgnbd(a.x, a.t_x, a.age)
        fit.require_converged()
    except bgnbd.FitError as exc:
        model.notes.append(f"BG/NBD fit failed: {exc}")
        return
    model.bgnbd = asdict(fit)
    try:
        spend = gammagamma.fit_gamma_gamma(a.x, a.m)
        spend.require_converged()
        model.gamma_gamma = asdict(spend)
    except bgnbd.FitError as exc:
        model.notes.append(f"Gamma-Gamma fit failed, no CLV: {exc}")


def _predict(model: ScoringModel, a: _Arrays, s: CustomerSummary) -> tuple[Any, ...]:
    """(p_alive, E[X(90)], E[X(365)], next order moment, days overdue, CLV 365); NaN without a
    fit."""
    n = a.x.size
    nan = np.full(n, np.nan)
    if model.bgnbd is None or n == 0:
        return nan, nan, nan, np.full(n, np.datetime64("NaT"), dtype="datetime64[s]"), None, nan
    fit = bgnbd.BgNbdFit(**model.bgnbd)
    p_alive = bgnbd.probability_alive(fit, a.x, a.t_x, a.age)
    e90 = bgnbd.conditional_expected_purchases(fit, 90.0, a.x, a.t_x, a.age)
    e365 = bgnbd.conditional_expected_purchases(fit, 365.0, a.x, a.t_x, a.age)
    next_age = bgnbd.expected_next_purchase_time(fit, a.x, a.t_x, a.age)
    next_at = s.first_at + (np.minimum(next_age, 36_500.0) * DAY_S).astype("timedelta64[s]")
    clv = nan
    if model.gamma_gamma is not None:
        spend = gammagamma.GammaGammaFit(**model.gamma_gamma)
        clv = e365 * gammagamma.conditional_expected_spend(spend, a.x, a.m)
    return p_alive, e90, e365, next_at, a.age - next_age, clv
