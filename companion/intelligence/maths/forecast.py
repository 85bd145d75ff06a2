"""Per-product daily demand forecast with a prediction interval, and days of stock left.

Method: additive weekday-seasonal exponential smoothing, ETS(A,N,A) with period 7, smoothing
parameters picked from a small grid by one-step squared error (the grid runs vectorised over
all products at once). Every product is backtested on rolling origins against the 7-day
seasonal-naive forecast ("same weekday last week"); a product whose history the smoother does
not beat on MASE is forecast with the seasonal-naive method, and the answer says which was used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

FloatArray = NDArray[np.float64]
PERIOD = 7
_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
_GAMMAS = (0.0, 0.02, 0.05, 0.1, 0.2)
_GRID = np.array([(a, g) for a in _ALPHAS for g in _GAMMAS if a + g <= 1.0])


@dataclass(frozen=True)
class Backtest:
    mase: float
    wape: float


@dataclass(frozen=True)
class DemandForecast:
    method: str  # "ets" or "seasonal_naive"
    point: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float
    backtest: dict[str, Backtest]


@dataclass(frozen=True)
class _Paths:
    point: FloatArray  # (P, H)
    variance: FloatArray  # (P, H)


def _initial_state(y: FloatArray) -> tuple[FloatArray, FloatArray]:
    weeks = min(y.shape[1] // PERIOD, 2)
    head = y[:, : weeks * PERIOD].reshape(y.shape[0], weeks, PERIOD)
    level = head.mean(axis=(1, 2))
    return level, head.mean(axis=1) - level[:, None]


def _ets(y: FloatArray, horizon: int) -> _Paths:
    """Fit ETS(A,N,A) per row of y (products x days) over the grid; forecast ``horizon`` days."""
    return _ets_at(y, horizon, [y.shape[1]])[0]


def _ets_at(y: FloatArray, horizon: int, ends: list[int]) -> list[_Paths]:
    """The fit and forecast of ``_ets`` on each prefix ``y[:, :end]``, in one pass over the days.

    A prefix's fit is the full run's state after ``end`` days (every grid point's recursion is the
    same up to there, the initial state reads the first two weeks of any prefix of 14 days or more)
    so the backtest's origins cost one pass instead of one each."""
    if len(ends) > 1 and min(ends) < 2 * PERIOD:  # a shorter prefix starts from another state
        return [_ets_at(y[:, :end], horizon, [end])[0] for end in ends]
    alpha, gamma = _GRID[:, 0], _GRID[:, 1]
    level0, season0 = _initial_state(y[:, : min(ends)])
    level = np.repeat(level0[:, None], len(_GRID), axis=1)  # (P, G)
    season = np.repeat(season0[:, None, :], len(_GRID), axis=1)  # (P, G, 7)
    sse = np.zeros_like(level)
    out: dict[int, _Paths] = {}
    for t in range(max(ends) + 1):
        if t in ends:
            out[t] = _ets_paths(level, season, sse, t, horizon)
        if t == y.shape[1]:
            break
        k = t % PERIOD
        error = y[:, t, None] - (level + season[:, :, k])
        if t >= PERIOD:
            sse += error**2
        level = level + alpha * error
        season[:, :, k] += gamma * error
    return [out[end] for end in ends]


def _ets_paths(
    level: FloatArray, season: FloatArray, sse: FloatArray, n: int, horizon: int
) -> _Paths:
    """The forecast of the grid point with the least squared error after ``n`` days."""
    alpha, gamma = _GRID[:, 0], _GRID[:, 1]
    best = np.argmin(sse, axis=1)
    rows = np.arange(level.shape[0])
    steps = np.arange(horizon)
    point = level[rows, best][:, None] + season[rows, best][:, (n + steps) % PERIOD]
    sigma2 = sse[rows, best] / max(n - PERIOD - 3, 1)
    a, g = alpha[best][:, None], gamma[best][:, None]
    h = steps[None, :] + 1
    factor = 1 + (h - 1) * a**2 + ((h - 1) // PERIOD) * g * (2 * a + g)
    return _Paths(point, sigma2[:, None] * factor)


def _seasonal_naive(y: FloatArray, horizon: int) -> _Paths:
    steps = np.arange(horizon)
    n = y.shape[1]
    point = y[:, n - PERIOD + steps % PERIOD]
    residual = y[:, PERIOD:] - y[:, :-PERIOD]
    sigma2 = np.mean(residual**2, axis=1) if residual.shape[1] else np.zeros(y.shape[0])
    return _Paths(point, sigma2[:, None] * (steps[None, :] // PERIOD + 1))


_METHODS = {"ets": _ets, "seasonal_naive": _seasonal_naive}


def _naive_scale(y: FloatArray) -> FloatArray:
    scale = np.mean(np.abs(y[:, PERIOD:] - y[:, :-PERIOD]), axis=1)
    return np.where(scale > 0, scale, 1.0)  # a perfectly weekly-repeating history: MAE instead


def backtest(
    history: ArrayLike, *, horizon: int = 7, folds: int = 4, min_train: int = 28
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Rolling-origin backtest: per method, (MASE, WAPE) per product over ``folds`` origins."""
    y = np.atleast_2d(np.asarray(history, dtype=float))
    origins = [y.shape[1] - horizon * k for k in range(folds, 0, -1)]
    origins = [o for o in origins if o >= min_train]
    if not origins:
        raise ValueError(f"need at least {min_train + horizon} days of history to backtest")
    result = {}
    for name, method in _METHODS.items():
        scaled, abs_error, actual = [], [], []
        fits = (
            _ets_at(y, horizon, origins)
            if name == "ets"
            else [method(y[:, :o], horizon) for o in origins]
        )
        for o, fit in zip(origins, fits, strict=True):
            test = y[:, o : o + horizon]
            error = np.abs(fit.point - test)
            scaled.append(error.mean(axis=1) / _naive_scale(y[:, :o]))
            abs_error.append(error.sum(axis=1))
            actual.append(np.abs(test).sum(axis=1))
        total = np.sum(actual, axis=0)
        wape = np.where(total > 0, np.sum(abs_error, axis=0) / np.where(total > 0, total, 1), 0.0)
        result[name] = (np.mean(scaled, axis=0), wape)
    return result


def forecast_products(
    history: ArrayLike, *, horizon: int = 14, level: float = 0.8, folds: int = 4
) -> list[DemandForecast]:
    """Forecast each row of ``history`` (products x days, oldest first, daily units sold)."""
    y = np.atleast_2d(np.asarray(history, dtype=float))
    if y.shape[1] < 2 * PERIOD:
        raise ValueError("need at least 14 days of history")
    if np.any(~np.isfinite(y)) or np.any(y < 0):
        raise ValueError("daily demand must be finite and non-negative")
    scores = backtest(y, folds=folds) if y.shape[1] >= 35 else None
    paths = {name: method(y, horizon) for name, method in _METHODS.items()}
    z = float(stats.norm.ppf(0.5 + level / 2))
    n_products = y.shape[0]
    if scores is None:
        use_ets = np.zeros(n_products, dtype=bool)
        tests: list[dict[str, Backtest]] = [{} for _ in range(n_products)]
    else:  # whole arrays at once, then one small object per product
        use_ets = scores["ets"][0] < scores["seasonal_naive"][0]
        columns = {name: (s[0].tolist(), s[1].tolist()) for name, s in scores.items()}
        tests = [
            {name: Backtest(c[0][p], c[1][p]) for name, c in columns.items()}
            for p in range(n_products)
        ]
    chosen = use_ets[:, None]
    point = np.maximum(np.where(chosen, paths["ets"].point, paths["seasonal_naive"].point), 0.0)
    half = z * np.sqrt(np.where(chosen, paths["ets"].variance, paths["seasonal_naive"].variance))
    lower, upper = np.maximum(point - half, 0.0), point + half
    return [
        DemandForecast(
            "ets" if use_ets[p] else "seasonal_naive", point[p], lower[p], upper[p], level, tests[p]
        )
        for p in range(n_products)
    ]


def forecast_demand(
    history: ArrayLike, *, horizon: int = 14, level: float = 0.8, folds: int = 4
) -> DemandForecast:
    """Forecast one product's daily demand (1-D history, oldest first)."""
    series = np.asarray(history, dtype=float).ravel()
    return forecast_products(series[None, :], horizon=horizon, level=level, folds=folds)[0]


def days_of_stock(stock_quantity: float, daily_forecast: ArrayLike) -> float | None:
    """Days until the forecast demand uses up the stock; None if not within the forecast."""
    demand = np.asarray(daily_forecast, dtype=float)
    if stock_quantity <= 0:
        return 0.0
    cumulative = np.cumsum(demand)
    k = int(np.searchsorted(cumulative, stock_quantity, side="left"))
    if k >= demand.size:
        return None
    before = cumulative[k - 1] if k > 0 else 0.0
    return float(k + (stock_quantity - before) / demand[k])
