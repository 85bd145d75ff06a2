"""Alerts: a daily metric off its recent weekday baseline, and products that stopped selling.

Baseline for day d: the median of the same weekday in the previous ``weeks`` weeks
(d-7, d-14, ...); spread: 1.4826 x the median absolute deviation of recent days from their
baselines. A day is off when its robust z-score passes ``threshold`` in the watched direction
*and* it differs from the baseline by at least ``min_relative_change`` (so a flat, noiseless
history does not alert on pennies). Off days in a row form one incident: what changed, by how
much, since when.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray
from scipy import stats

FloatArray = NDArray[np.float64]
Direction = Literal["drop", "spike", "both"]
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Incident:
    start: int  # index of the first off day
    end: int  # index of the last off day (inclusive)
    direction: str  # "drop" or "spike"
    baseline: float  # median baseline over the incident
    observed: float  # mean observed value over the incident
    change: float  # observed - baseline
    relative_change: float  # change / baseline (inf when the baseline is 0)
    peak_score: float  # largest |robust z| in the incident
    ongoing: bool  # still off on the last day of the series


@dataclass(frozen=True)
class StalledProduct:
    index: int  # row of the product in the input matrix
    since: int  # first day of the zero run
    zero_days: int
    daily_rate: float  # sales per day in the window before the run
    probability: float  # P(no sale in zero_days days) under that rate


def weekday_baseline(
    values: ArrayLike, weeks: int = 8, min_weeks: int = 4
) -> tuple[FloatArray, FloatArray]:
    """Per day: median of the same weekday over the previous ``weeks`` weeks, and the spread.

    The spread is 1.4826 x the median absolute deviation of the previous ``7 * weeks`` days
    from their own baselines: pooled over all weekdays, so it rests on ~56 values, not 8.
    NaN values (days without data) are ignored; days with fewer than ``min_weeks`` usable
    same-weekday values get a NaN baseline.
    """
    y = np.asarray(values, dtype=float).ravel()
    n = y.size
    lags = _same_weekday_lags(y, weeks)
    with warnings.catch_warnings():  # all-NaN rows (too little history) are expected
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(lags, axis=1)
        median[np.sum(~np.isnan(lags), axis=1) < min_weeks] = np.nan
        deviation = np.concatenate([np.full(7 * weeks, np.nan), np.abs(y - median)])
        window = sliding_window_view(deviation[:-1], 7 * weeks)[-n:] if n else np.empty((0, 1))
        sigma = _MAD_TO_SIGMA * np.nanmedian(window, axis=1)
    sigma[np.sum(~np.isnan(window), axis=1) < 14] = np.nan  # two weeks of deviations at least
    return median, sigma


def robust_scores(
    values: ArrayLike,
    weeks: int = 8,
    min_weeks: int = 4,
    floor_share: float = 0.05,
    min_scale: float = 1e-9,
) -> tuple[FloatArray, FloatArray]:
    """(baseline, robust z) per day; the spread is floored at floor_share x baseline."""
    y = np.asarray(values, dtype=float).ravel()
    median, sigma = weekday_baseline(y, weeks, min_weeks)
    floor = np.maximum(floor_share * np.abs(median), min_scale)
    with np.errstate(invalid="ignore"):
        z = (y - median) / np.maximum(sigma, floor)
    return median, z


def detect_incidents(
    values: ArrayLike,
    *,
    direction: Direction = "both",
    weeks: int = 8,
    min_weeks: int = 4,
    threshold: float = 2.5,
    instant_threshold: float = 6.0,
    min_days: int = 2,
    min_relative_change: float = 0.2,
    min_change: float = 0.0,
    log_scale: bool = True,
) -> list[Incident]:
    """Runs of days off the weekday baseline, oldest first (for amounts such as revenue).

    A day is off when |z| >= ``threshold`` in the watched direction and the change is at
    least ``min_relative_change`` of the baseline and ``min_change`` in absolute terms. Runs
    with one quiet day in between are merged. A run becomes an incident once it lasts
    ``min_days`` days (so it is reported one day after it starts, dated from its first day),
    or at once when a day reaches ``instant_threshold``. With ``log_scale`` (amounts >= 0)
    the scores are computed on log(1 + value): sales noise is proportional to volume, so a
    busy Saturday and a quiet Tuesday are then judged on one scale.
    """
    y = np.asarray(values, dtype=float).ravel()
    if log_scale and np.any(y < 0):
        raise ValueError("log_scale needs non-negative values")
    if log_scale:  # spread floored at 0.02 on the log scale: a 2 % wobble is never news
        scored, z = robust_scores(np.log1p(y), weeks, min_weeks, floor_share=0.0, min_scale=0.02)
    else:
        scored, z = robust_scores(y, weeks, min_weeks)
    baseline = np.expm1(scored) if log_scale else scored
    big = _large_enough(y, baseline, min_relative_change, min_change)
    return _incidents(y, baseline, z, big, direction, threshold, instant_threshold, min_days)


def detect_rate_incidents(
    numerator: ArrayLike,
    denominator: ArrayLike,
    *,
    direction: Direction = "both",
    weeks: int = 8,
    min_weeks: int = 4,
    threshold: float = 2.5,
    instant_threshold: float = 6.0,
    min_days: int = 2,
    min_relative_change: float = 0.2,
    min_change: float = 0.0,
) -> list[Incident]:
    """Incidents of a daily rate (refunds / orders, orders / sessions) from its counts.

    Baseline rate: the pooled rate of the same weekday over the previous ``weeks`` weeks
    (their events / their trials; a median of daily rates of a few events is biased to 0).
    Score: the binomial tail probability of the day's count given its denominator and that
    rate, as a normal quantile (2.5 means p ~ 0.006 one-sided). Rates of a few events a day are far
    too skewed for a MAD threshold; the count carries how much a day's rate can be trusted.
    """
    k = np.asarray(numerator, dtype=float).ravel()
    n = np.asarray(denominator, dtype=float).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, k / n, np.nan)
        # No event in eight weeks of trials is not a rate of 0 (which would make the next single
        # event infinitely surprising): count half an event, the usual zero-count correction.
        baseline = np.maximum(_same_weekday_sum(k, weeks), 0.5) / _same_weekday_sum(n, weeks)
    baseline[_same_weekday_count(n, weeks) < min_weeks] = np.nan
    z = _binomial_scores(k, n, baseline)
    big = _large_enough(rate, baseline, min_relative_change, min_change)
    return _incidents(rate, baseline, z, big, direction, threshold, instant_threshold, min_days)


def _same_weekday_lags(y: FloatArray, weeks: int) -> FloatArray:
    """(days, weeks) matrix: the value of day d - 7k in column k - 1, NaN before the start."""
    lags = np.full((y.size, weeks), np.nan)
    for k in range(1, weeks + 1):
        lags[7 * k :, k - 1] = y[: max(y.size - 7 * k, 0)]
    return lags


def _same_weekday_sum(y: FloatArray, weeks: int) -> FloatArray:
    return np.nansum(_same_weekday_lags(y, weeks), axis=1)


def _same_weekday_count(y: FloatArray, weeks: int) -> FloatArray:
    lags = _same_weekday_lags(y, weeks)
    return np.sum(~np.isnan(lags) & (lags > 0), axis=1)


def _binomial_scores(k: FloatArray, n: FloatArray, p0: FloatArray) -> FloatArray:
    known = (n > 0) & ~np.isnan(p0)
    p = np.clip(np.nan_to_num(p0, nan=0.5), 1e-9, 1 - 1e-9)
    trials = np.maximum(n, 1).astype(np.int64)
    low = stats.norm.isf(stats.binom.cdf(k, trials, p))
    high = stats.norm.isf(stats.binom.sf(k - 1, trials, p))
    score = np.where(k < n * p, -low, high)
    return np.where(known, np.clip(score, -40.0, 40.0), np.nan)


def _large_enough(
    y: FloatArray, baseline: FloatArray, min_relative_change: float, min_change: float
) -> NDArray[np.bool_]:
    change = np.nan_to_num(np.abs(y - baseline), nan=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.nan_to_num(change / np.abs(baseline), nan=0.0, posinf=np.inf)
    return (relative >= min_relative_change) & (change >= min_change)


def _incidents(
    y: FloatArray,
    baseline: FloatArray,
    z: FloatArray,
    big: NDArray[np.bool_],
    direction: Direction,
    threshold: float,
    instant_threshold: float,
    min_days: int,
) -> list[Incident]:
    z0 = np.nan_to_num(z, nan=0.0)
    found: list[Incident] = []
    for name, sign in (("drop", -1.0), ("spike", 1.0)):
        if direction in (name, "both"):
            runs = _merged_runs(big & (sign * z0 >= threshold))
            found += [
                _incident(s, e, name, y, baseline, z0)
                for s, e in runs
                if e - s + 1 >= min_days or np.max(np.abs(z0[s : e + 1])) >= instant_threshold
            ]
    return sorted(found, key=lambda inc: inc.start)


def _merged_runs(flags: NDArray[np.bool_], max_gap: int = 1) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    runs: list[tuple[int, int]] = []
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    for s, e in zip(starts.tolist(), ends.tolist()):
        if runs and s - runs[-1][1] - 1 <= max_gap:
            runs[-1] = (runs[-1][0], e)
        else:
            runs.append((s, e))
    return runs


def _incident(
    s: int, e: int, direction: str, y: FloatArray, baseline: FloatArray, z: FloatArray
) -> Incident:
    base = float(np.median(baseline[s : e + 1]))
    observed = float(np.mean(y[s : e + 1]))
    change = observed - base
    relative = change / base if base != 0 else float(np.copysign(np.inf, change))
    return Incident(
        s,
        e,
        direction,
        base,
        observed,
        change,
        float(relative),
        float(np.max(np.abs(z[s : e + 1]))),
        e == y.size - 1,
    )


def open_incident(incidents: list[Incident]) -> Incident | None:
    """The incident still going on the last day of the series (an open alert), if any."""
    ongoing = [incident for incident in incidents if incident.ongoing]
    return ongoing[-1] if ongoing else None


def stalled_products(
    daily_units: ArrayLike,
    *,
    window: int = 28,
    min_active_days: int = 10,
    max_probability: float = 0.001,
) -> list[StalledProduct]:
    """Products (rows, oldest day first) that sold steadily and then stopped.

    Steady: sold on at least ``min_active_days`` of the ``window`` days before the current
    run of zero-sale days. Stopped: under the Poisson rate of that window, seeing no sale for
    the whole run had probability below ``max_probability``.
    """
    y = np.atleast_2d(np.asarray(daily_units, dtype=float))
    n_products, n = y.shape
    sold = y > 0
    last_sale = n - 1 - np.argmax(sold[:, ::-1], axis=1)
    zero_days = np.where(sold.any(axis=1), n - 1 - last_sale, n)
    since = n - zero_days
    rows = np.flatnonzero((zero_days > 0) & (since >= window))
    units = np.concatenate([np.zeros((n_products, 1)), np.cumsum(y, axis=1)], axis=1)
    active = np.concatenate([np.zeros((n_products, 1)), np.cumsum(sold, axis=1)], axis=1)
    start, stop = since[rows] - window, since[rows]
    rate = (units[rows, stop] - units[rows, start]) / window
    steady = active[rows, stop] - active[rows, start] >= min_active_days
    probability = np.exp(-rate * zero_days[rows])
    hit = steady & (probability < max_probability)
    return [
        StalledProduct(int(p), int(since[p]), int(zero_days[p]), float(r), float(q))
        for p, r, q in zip(rows[hit], rate[hit], probability[hit])
    ]
