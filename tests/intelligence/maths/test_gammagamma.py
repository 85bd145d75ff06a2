from __future__ import annotations

import numpy as np
import pytest

from companion.intelligence.maths.bgnbd import FitError, conditional_expected_purchases, fit_bgnbd
from companion.intelligence.maths.gammagamma import (
    GammaGammaFit,
    conditional_expected_spend,
    fit_gamma_gamma,
    predicted_clv,
)

from .cdnow import summary_with_spend


@pytest.fixture(scope="module")
def cdnow() -> np.ndarray:
    return summary_with_spend()


@pytest.fixture(scope="module")
def spend_fit(cdnow: np.ndarray) -> GammaGammaFit:
    return fit_gamma_gamma(cdnow["x"], cdnow["zbar"])


def test_cdnow_spend_fit_reproduces_the_published_parameters(spend_fit: GammaGammaFit) -> None:
    assert spend_fit.converged, spend_fit.message
    assert round(spend_fit.p, 2) == 6.25
    assert round(spend_fit.q, 2) == 3.74
    # The maximum is at gamma = 15.4477 (lifetimes 0.11.3 finds 15.4477 too); the published
    # 15.44 is that value cut to two decimals.
    assert abs(spend_fit.gamma - 15.44) < 0.01
    assert spend_fit.n_customers == 946  # repeat customers only


def test_expected_spend_shrinks_a_customers_mean_towards_the_population_mean(
    spend_fit: GammaGammaFit,
) -> None:
    population = spend_fit.p * spend_fit.gamma / (spend_fit.q - 1)
    new, few, many = conditional_expected_spend(spend_fit, [0, 1, 50], [0.0, 100.0, 100.0])
    assert new == pytest.approx(population)
    assert population < few < many < 100.0
    assert many > 95.0


def test_predicted_clv_is_expected_purchases_times_expected_spend(
    cdnow: np.ndarray, spend_fit: GammaGammaFit
) -> None:
    bg = fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    rows = slice(0, 50)
    args = (cdnow["x"][rows], cdnow["t_x"][rows], cdnow["T"][rows])
    clv = predicted_clv(bg, spend_fit, 52.0, *args, cdnow["zbar"][rows])
    expected = conditional_expected_purchases(bg, 52.0, *args) * conditional_expected_spend(
        spend_fit, cdnow["x"][rows], cdnow["zbar"][rows]
    )
    np.testing.assert_allclose(clv, expected)
    discounted = predicted_clv(bg, spend_fit, 52.0, *args, cdnow["zbar"][rows], discount_rate=0.01)
    assert np.all(discounted < clv) and np.all(discounted > 0.8 * clv)


def test_without_repeat_customers_the_spend_fit_raises_fit_error() -> None:
    with pytest.raises(FitError, match="no repeat customer"):
        fit_gamma_gamma([0, 0, 0], [0.0, 0.0, 0.0])


def test_one_repeat_customer_does_not_identify_the_model() -> None:
    fit = fit_gamma_gamma([2], [30.0])
    assert not fit.converged
    with pytest.raises(FitError):
        conditional_expected_spend(fit, [2], [30.0])


def test_weights_count_as_repeated_customers(cdnow: np.ndarray) -> None:
    x, m = cdnow["x"][:400], cdnow["zbar"][:400]
    doubled = fit_gamma_gamma(np.concatenate([x, x]), np.concatenate([m, m]))
    weighted = fit_gamma_gamma(x, m, np.full(x.size, 2.0))
    assert (weighted.p, weighted.q, weighted.gamma) == pytest.approx(
        (doubled.p, doubled.q, doubled.gamma), rel=1e-4
    )


def test_the_currency_unit_only_rescales_gamma(cdnow: np.ndarray, spend_fit: GammaGammaFit) -> None:
    in_cents = fit_gamma_gamma(cdnow["x"], cdnow["zbar"] * 100.0)
    assert (in_cents.p, in_cents.q) == pytest.approx((spend_fit.p, spend_fit.q), rel=1e-4)
    assert in_cents.gamma == pytest.approx(spend_fit.gamma * 100.0, rel=1e-4)
    assert in_cents.log_likelihood == pytest.approx(
        spend_fit.log_likelihood - spend_fit.n_customers * np.log(100.0), rel=1e-6
    )
