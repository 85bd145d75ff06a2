from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from companion.intelligence.maths.bgnbd import (
    BgNbdFit,
    FitError,
    _negative_ll_and_gradient,
    _prepare,
    conditional_expected_purchases,
    expected_next_purchase_time,
    expected_purchases_new_customer,
    fit_bgnbd,
    group_summary,
    individual_log_likelihood,
    probability_alive,
)

from .cdnow import customers_summary


@pytest.fixture(scope="module")
def cdnow_fit() -> BgNbdFit:
    d = customers_summary()
    return fit_bgnbd(d["frequency"], d["recency"], d["T"])


def test_cdnow_fit_reproduces_the_published_parameters(cdnow_fit: BgNbdFit) -> None:
    assert cdnow_fit.converged, cdnow_fit.message
    assert round(cdnow_fit.r, 2) == 0.24 and abs(cdnow_fit.r - 0.243) < 5e-4
    assert abs(cdnow_fit.alpha - 4.414) < 5e-3
    assert abs(cdnow_fit.a - 0.793) < 5e-4
    assert abs(cdnow_fit.b - 2.426) < 5e-3
    assert round(cdnow_fit.log_likelihood, 1) == -9582.4
    assert cdnow_fit.n_customers == 2357


def test_cdnow_expected_purchases_of_the_paper_example_is_1_226(cdnow_fit: BgNbdFit) -> None:
    value = conditional_expected_purchases(cdnow_fit, 39, [2], [30.43], [38.86])
    assert value[0] == pytest.approx(1.226, abs=1e-3)


def _paper_formula(fit: BgNbdFit, t: float, x: float, t_x: float, big_t: float) -> float:
    """FHL 2005 eq. 10 written literally, to check the transformed form used in the module."""
    z = t / (fit.alpha + big_t + t)
    hyp = special.hyp2f1(fit.r + x, fit.b + x, fit.a + fit.b + x - 1, z)
    head = (fit.a + fit.b + x - 1) / (fit.a - 1)
    body = 1 - ((fit.alpha + big_t) / (fit.alpha + big_t + t)) ** (fit.r + x) * hyp
    ratio = (fit.alpha + big_t) / (fit.alpha + t_x)
    odds = (x > 0) * fit.a / (fit.b + x - 1) * ratio ** (fit.r + x)
    return head * body / (1 + odds)


def test_expected_purchases_agree_with_the_literal_paper_formula(cdnow_fit: BgNbdFit) -> None:
    cases = [(0, 0.0, 38.86), (1, 5.0, 38.86), (3, 20.0, 30.0), (7, 35.0, 38.86), (2, 1.0, 10.0)]
    for x, t_x, big_t in cases:
        ours = conditional_expected_purchases(cdnow_fit, 20.0, [x], [t_x], [big_t])[0]
        assert ours == pytest.approx(_paper_formula(cdnow_fit, 20.0, x, t_x, big_t), rel=1e-9)


def test_grouped_rows_with_weights_fit_exactly_like_the_raw_rows() -> None:
    d = customers_summary()
    grouped = group_summary(d["frequency"], d["recency"], d["T"])
    assert grouped.frequency.size < 2357 and grouped.weights.sum() == 2357
    fit = fit_bgnbd(grouped.frequency, grouped.recency, grouped.age, grouped.weights)
    raw = fit_bgnbd(d["frequency"], d["recency"], d["T"])
    assert (fit.r, fit.alpha, fit.a, fit.b) == pytest.approx((raw.r, raw.alpha, raw.a, raw.b))


def test_analytic_gradient_matches_finite_differences() -> None:
    d = customers_summary()
    s = group_summary(d["frequency"], d["recency"], d["T"])
    point = np.log([0.3, 5.0, 0.9, 2.0])
    prepared = _prepare(s)
    _, grad = _negative_ll_and_gradient(point, prepared)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        up, _ = _negative_ll_and_gradient(point + step, prepared)
        down, _ = _negative_ll_and_gradient(point - step, prepared)
        assert grad[k] == pytest.approx((up - down) / 2e-6, rel=1e-5)


def test_the_fast_likelihood_equals_the_sum_of_per_customer_likelihoods() -> None:
    d = customers_summary()
    s = group_summary(d["frequency"], d["recency"], d["T"])
    params = np.array([0.3, 5.0, 0.9, 2.0])
    fast, _ = _negative_ll_and_gradient(np.log(params), _prepare(s))
    assert -fast == pytest.approx(float(s.weights @ individual_log_likelihood(params, s)))


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_silence(
    cdnow_fit: BgNbdFit,
) -> None:
    p = probability_alive(cdnow_fit, [0, 3, 3, 3], [0, 38, 20, 2], [38.86] * 4)
    assert p[0] == 1.0
    assert 1 > p[1] > p[2] > p[3] > 0


def test_extreme_frequencies_give_finite_predictions(cdnow_fit: BgNbdFit) -> None:
    x = np.array([0, 1, 50, 500, 5000, 100000])
    t_x = np.array([0, 0.01, 38.0, 38.8, 38.86, 38.86])
    big_t = np.full(6, 38.86)
    for values in (
        probability_alive(cdnow_fit, x, t_x, big_t),
        conditional_expected_purchases(cdnow_fit, 39, x, t_x, big_t),
        expected_next_purchase_time(cdnow_fit, x, t_x, big_t),
    ):
        assert np.all(np.isfinite(values)) and np.all(values >= 0)
    silent_heavy_buyer = probability_alive(cdnow_fit, [5000], [1.0], [38.86])
    assert silent_heavy_buyer[0] == 0.0


def test_expected_purchases_grow_with_the_horizon(cdnow_fit: BgNbdFit) -> None:
    horizons = [1, 4, 13, 52, 520]
    values = [
        conditional_expected_purchases(cdnow_fit, h, [2], [30.43], [38.86])[0] for h in horizons
    ]
    assert np.all(np.diff(values) > 0)
    new = expected_purchases_new_customer(cdnow_fit, np.array(horizons, dtype=float))
    assert np.all(np.diff(new) > 0) and new[0] > 0


def test_next_purchase_is_due_sooner_for_frequent_buyers_and_can_be_overdue(
    cdnow_fit: BgNbdFit,
) -> None:
    due = expected_next_purchase_time(cdnow_fit, [1, 10], [20.0, 20.0], [38.86, 38.86])
    assert due[1] < due[0]
    assert due[1] < 38.86  # ten purchases by week 20, silent since: overdue at week 38.86


def test_a_single_customer_fits_without_nan() -> None:
    fit = fit_bgnbd([3], [10.0], [20.0])
    assert np.isfinite([fit.r, fit.alpha, fit.a, fit.b, fit.log_likelihood]).all()
    assert isinstance(fit.converged, bool) and fit.message


def test_all_one_time_buyers_raise_fit_error() -> None:
    with pytest.raises(FitError, match="no customer has a repeat purchase"):
        fit_bgnbd(np.zeros(1000), np.zeros(1000), np.linspace(1, 100, 1000))


def test_invalid_input_raises_fit_error() -> None:
    with pytest.raises(FitError, match="recency cannot exceed age"):
        fit_bgnbd([1], [5.0], [3.0])
    with pytest.raises(FitError, match="NaN"):
        fit_bgnbd([1, np.nan], [1.0, 1.0], [3.0, 3.0])
    with pytest.raises(FitError, match="no customers"):
        fit_bgnbd([], [], [])


def test_a_fit_that_stopped_early_is_reported_and_refuses_to_predict() -> None:
    d = customers_summary()
    fit = fit_bgnbd(d["frequency"], d["recency"], d["T"], max_iter=2)
    assert not fit.converged and "optimizer stopped" in fit.message
    with pytest.raises(FitError, match="did not converge"):
        probability_alive(fit, [1], [1.0], [2.0])


def simulate(
    n: int, r: float, alpha: float, a: float, b: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers drawn from the BG/NBD story itself: Poisson buying, dropout after purchases."""
    rng = np.random.default_rng(seed)
    age = rng.integers(30, 731, n).astype(float)
    rate, dropout = rng.gamma(r, 1.0 / alpha, n), rng.beta(a, b, n)
    x, t_x, clock, active = np.zeros(n), np.zeros(n), np.zeros(n), np.arange(n)
    while active.size:
        clock[active] += rng.exponential(1.0, active.size) / rate[active]
        buyers = active[clock[active] <= age[active]]
        x[buyers] += 1
        t_x[buyers] = clock[buyers]
        active = buyers[rng.random(buyers.size) >= dropout[buyers]]
    return x, np.round(t_x), age


def test_the_fit_recovers_the_parameters_a_store_was_simulated_from() -> None:
    fit = fit_bgnbd(*simulate(30_000, r=0.7, alpha=25.0, a=0.9, b=3.5, seed=4))
    assert fit.converged
    assert fit.r == pytest.approx(0.7, rel=0.08)
    assert fit.alpha == pytest.approx(25.0, rel=0.1)
    assert fit.a == pytest.approx(0.9, rel=0.15)
    assert fit.b == pytest.approx(3.5, rel=0.2)


def test_a_few_extreme_buyers_do_not_break_the_fit() -> None:
    d = customers_summary()
    x = np.append(d["frequency"], [5000, 20000])
    t_x = np.append(d["recency"], [38.0, 38.86])
    big_t = np.append(d["T"], [38.86, 38.86])
    fit = fit_bgnbd(x, t_x, big_t)
    assert fit.converged
    assert np.isfinite([fit.r, fit.alpha, fit.a, fit.b, fit.log_likelihood]).all()
    assert np.all(np.isfinite(conditional_expected_purchases(fit, 52, x, t_x, big_t)))


def test_identical_customers_alone_do_not_identify_the_model() -> None:
    fit = fit_bgnbd(np.full(100, 3), np.full(100, 10.0), np.full(100, 20.0))
    assert not fit.converged and "do not identify" in fit.message


def test_expected_purchases_stay_finite_where_the_hypergeometric_argument_is_below_minus_one() -> (
    None
):
    """A fit with large a and b (customers rarely drop out) and a horizon longer than alpha + T:
    scipy's hyp2f1 at -t/(alpha+T) < -1 gave 1e36 purchases; the literal eq. 10 gives ~8."""
    r, alpha, a, b = 0.49873, 29.7397, 13.1913, 112.146
    fit = BgNbdFit(r, alpha, a, b, 0.0, True, "converged", 1)
    x, t_x, big_t, t = 16.0, 111.6, 146.8, 365.0
    bracket = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * special.hyp2f1(
        r + x, b + x, a + b + x - 1, t / (alpha + big_t + t)
    )
    literal = (a + b + x - 1) / (a - 1) * bracket * probability_alive(fit, [x], [t_x], [big_t])[0]
    expected = conditional_expected_purchases(fit, t, [x], [t_x], [big_t])[0]
    assert 1 < literal < 20
    assert expected == pytest.approx(literal, rel=1e-9)
