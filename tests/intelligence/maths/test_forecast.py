from __future__ import annotations

import numpy as np
import pytest

from companion.intelligence.maths.forecast import (
    backtest,
    days_of_stock,
    forecast_demand,
    forecast_products,
)

WEEKLY = np.array([1.0, 1.1, 1.0, 0.9, 1.2, 1.6, 1.4])


def seasonal_demand(rate: float, days: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.poisson(rate * WEEKLY[np.arange(days) % 7]).astype(float)


def test_the_smoother_beats_seasonal_naive_on_a_noisy_weekly_product_and_is_used() -> None:
    result = forecast_demand(seasonal_demand(20.0, 180, seed=1))
    ets, naive = result.backtest["ets"], result.backtest["seasonal_naive"]
    assert result.method == "ets"
    assert ets.mase < naive.mase and ets.wape < naive.wape
    weekday = (180 + np.arange(14)) % 7  # the forecast starts on day 180 of the history
    busiest, quietest = result.point[weekday == 5], result.point[weekday == 3]
    assert np.all(busiest > quietest + 5)


def test_a_product_the_smoother_does_not_beat_falls_back_to_seasonal_naive() -> None:
    pattern = np.tile([0.0, 0, 0, 0, 0, 9, 0], 20)  # sells only on one weekday, exactly
    result = forecast_demand(pattern, horizon=7)
    assert result.method == "seasonal_naive"
    assert result.backtest["seasonal_naive"].mase == 0.0
    np.testing.assert_array_equal(result.point, [0, 0, 0, 0, 0, 9, 0])


def test_short_histories_use_seasonal_naive_without_a_backtest() -> None:
    result = forecast_demand(seasonal_demand(5.0, 21, seed=2))
    assert result.method == "seasonal_naive" and result.backtest == {}


def test_the_80_percent_interval_covers_about_80_percent_of_future_days() -> None:
    hits = []
    for seed in range(40):
        y = seasonal_demand(20.0, 194, seed)
        result = forecast_demand(y[:180], horizon=14)
        hits.append(np.mean((y[180:] >= result.lower) & (y[180:] <= result.upper)))
    assert 0.7 <= float(np.mean(hits)) <= 0.92


def test_products_are_forecast_together_with_the_same_answers_as_one_by_one() -> None:
    history = np.stack([seasonal_demand(r, 120, seed=i) for i, r in enumerate([30, 8, 2])])
    together = forecast_products(history)
    for row, result in zip(history, together):
        alone = forecast_demand(row)
        assert alone.method == result.method
        np.testing.assert_allclose(alone.point, result.point)


def test_backtest_reports_mase_and_wape_per_method() -> None:
    scores = backtest(seasonal_demand(10.0, 120, seed=4), horizon=7, folds=4)
    assert set(scores) == {"ets", "seasonal_naive"}
    for mase, wape in scores.values():
        assert mase.shape == (1,) and 0 < mase[0] < 3 and 0 < wape[0] < 1


def test_days_of_stock_counts_through_the_forecast() -> None:
    assert days_of_stock(25, [10, 10, 10, 10]) == pytest.approx(2.5)
    assert days_of_stock(0, [10, 10]) == 0.0
    assert days_of_stock(100, [10, 10]) is None  # lasts beyond the forecast horizon
    assert days_of_stock(5, [0, 0, 0]) is None


def test_bad_histories_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 14 days"):
        forecast_demand([1.0] * 10)
    with pytest.raises(ValueError, match="non-negative"):
        forecast_demand([1.0] * 20 + [-1.0])


def test_fits_at_several_origins_in_one_pass_equal_fitting_each_prefix_on_its_own() -> None:
    """The backtest reads each origin's fit from one pass over the days; it must be exactly the
    fit of that prefix alone (same grid choice, level, seasonal state and error)."""
    from companion.intelligence.maths.forecast import _ets, _ets_at  # noqa: PLC0415

    rng = np.random.default_rng(4)
    history = np.vstack(
        [seasonal_demand(rate, 63, seed=s) for s, rate in enumerate((0.3, 2.0, 9.0, 25.0))]
        + [rng.poisson(1.0, 63).astype(float) * (np.arange(63) < 40)]  # stopped on day 40
    )
    for ends in ([28, 35, 42, 49], [63], [14, 40, 63], [7, 20]):
        for end, fit in zip(ends, _ets_at(history, 7, ends), strict=True):
            alone = _ets(history[:, :end], 7)
            assert np.array_equal(fit.point, alone.point), end
            assert np.array_equal(fit.variance, alone.variance), end
