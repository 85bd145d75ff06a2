"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV") and predicted CLV.

Fitted on repeat customers only (x > 0 repeat purchases, mean repeat-order value m > 0).
The model assumes spend is independent of purchase frequency; check before relying on it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from companion.intelligence.bgnbd import BgNbdFit, FitError, conditional_expected_purchases

FloatArray = NDArray[np.float64]
# Spend is divided by its mean before fitting (currency-free), so one box suits every store:
# exp(+-11.5) is 1e-5 .. 1e5. A parameter on its edge means the data do not identify it.
_LOG_BOUND = 11.5


@dataclass(frozen=True)
class GammaGammaFit:
    p: float
    q: float
    gamma: float
    log_likelihood: float
    converged: bool
    message: str
    n_customers: int

    def require_converged(self) -> GammaGammaFit:
        if not self.converged:
            raise FitError(f"Gamma-Gamma fit did not converge: {self.message}")
        if self.q <= 1.0:
            raise FitError("Gamma-Gamma q <= 1: the population mean spend is infinite")
        return self


def _repeat_customers(frequency: ArrayLike, monetary: ArrayLike,
                      weights: ArrayLike | None) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = np.asarray(frequency, dtype=float).ravel()
    m = np.asarray(monetary, dtype=float).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if not (x.size == m.size == w.size):
        raise FitError("frequency, monetary and weights must have the same length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(m)) and np.all(np.isfinite(w))):
        raise FitError("inputs contain NaN or infinity")
    keep = (x > 0) & (m > 0) & (w > 0)
    if not np.any(keep):
        raise FitError("no repeat customer with positive spend; Gamma-Gamma needs some to fit")
    return x[keep], m[keep], w[keep]


def _negative_ll_and_gradient(log_params: FloatArray, x: FloatArray, m: FloatArray,
                              w: FloatArray) -> tuple[float, FloatArray]:
    params = np.exp(log_params)
    p, q, g = params
    px = p * x
    log_gmx = np.log(g + m * x)
    ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(g)
          + (px - 1.0) * np.log(m) + px * np.log(x) - (px + q) * log_gmx)
    psi = special.digamma
    d_p = x * (psi(px + q) - psi(px) + np.log(m) + np.log(x) - log_gmx)
    d_q = psi(px + q) - psi(q) + np.log(g) - log_gmx
    d_g = q / g - (px + q) / (g + m * x)
    grad = np.array([w @ d_p, w @ d_q, w @ d_g]) * params
    return -float(w @ ll), -grad


def fit_gamma_gamma(frequency: ArrayLike, monetary: ArrayLike,
                    weights: ArrayLike | None = None, *, max_iter: int = 500) -> GammaGammaFit:
    """Maximum-likelihood p, q, gamma from repeat purchases x and mean repeat spend m.

    Rows with x == 0 or m <= 0 are ignored, so the whole customer summary can be passed.
    """
    x, m, w = _repeat_customers(frequency, monetary, weights)
    unit = float(np.average(m, weights=w))
    result = optimize.minimize(
        _negative_ll_and_gradient, np.log([1.0, 2.0, 1.0]), args=(x, m / unit, w), jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3, options={"maxiter": max_iter, "gtol": 1e-8},
    )
    p, q, g = (float(v) for v in np.exp(result.x))
    g *= unit
    log_likelihood = -float(result.fun) - float(w.sum() * np.log(unit))  # density of m, not m/unit
    converged, message = True, "converged"
    if not np.isfinite(result.fun) or np.any(np.abs(result.x) >= _LOG_BOUND - 1e-6):
        converged, message = False, "a parameter ran to its bound: spend does not identify the model"
    elif not result.success:
        converged, message = False, f"optimizer stopped: {result.message}"
    return GammaGammaFit(p, q, g, log_likelihood, converged, message, int(np.rint(w.sum())))


def conditional_expected_spend(fit: GammaGammaFit, frequency: ArrayLike,
                               monetary: ArrayLike) -> FloatArray:
    """E[M | x, m]: expected value of a customer's future orders.

    A weighted mean of the population mean p*gamma/(q-1) and the customer's own mean m,
    with weight p*x/(p*x+q-1) on the customer; customers without repeat purchases get the
    population mean.
    """
    fit.require_converged()
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.asarray(monetary, dtype=float), 0.0)
    return fit.p * (fit.gamma + m * x) / (fit.p * x + fit.q - 1.0)


def predicted_clv(bgnbd: BgNbdFit, spend: GammaGammaFit, horizon: float,
                  frequency: ArrayLike, recency: ArrayLike, age: ArrayLike,
                  monetary: ArrayLike, *, discount_rate: float = 0.0,
                  steps: int = 12) -> FloatArray:
    """Expected revenue over ``horizon`` time units: E[X(horizon)] x E[M].

    With ``discount_rate == 0`` (the default, and what DESIGN section 4 defines as predicted
    CLV) this is exactly purchases x spend. A positive rate is per ``horizon / steps`` period:
    purchases expected in each period are discounted by (1 + rate) ** period_index.
    """
    value = conditional_expected_spend(spend, frequency, monetary)
    if discount_rate == 0.0:
        return conditional_expected_purchases(bgnbd, horizon, frequency, recency, age) * value
    edges = np.linspace(0.0, horizon, steps + 1)
    cumulative = [conditional_expected_purchases(bgnbd, t, frequency, recency, age)
                  if t > 0 else 0.0 for t in edges]
    total = sum((cumulative[i] - cumulative[i - 1]) / (1.0 + discount_rate) ** i
                for i in range(1, steps + 1))
    return np.asarray(total, dtype=float) * value
