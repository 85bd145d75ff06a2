"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV") and predicted CLV.

Fitted on repeat customers only (x > 0 repeat purchases, mean repeat-order value m > 0).
The model assumes spend is independent of purchase frequency; check before relying on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from companion.intelligence.maths.bgnbd import BgNbdFit, FitError, conditional_expected_purchases
from companion.intelligence.maths.numeric import dot

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


def _repeat_customers(
    frequency: ArrayLike, monetary: ArrayLike, weights: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
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


@dataclass(frozen=True)
class _Prepared:
    """Repeat customers with every parameter-free sum computed once."""

    x: FloatArray
    m: FloatArray
    w: FloatArray
    x_values: FloatArray
    x_weight: FloatArray  # total weight per distinct x
    wx: FloatArray  # w * x per row
    sum_w: float
    sum_wx_log_mx: float  # sum w x (log m + log x)
    sum_w_log_m: float


def _prepare(x: FloatArray, m: FloatArray, w: FloatArray) -> _Prepared:
    x_values, x_index = np.unique(x, return_inverse=True)
    x_weight = np.bincount(x_index, weights=w, minlength=x_values.size).astype(float)
    wx = w * x
    return _Prepared(
        x,
        m,
        w,
        x_values,
        x_weight,
        wx,
        float(w.sum()),
        dot(wx, np.log(m) + np.log(x)),
        dot(w, np.log(m)),
    )


def _negative_ll_and_gradient(log_params: FloatArray, d: _Prepared) -> tuple[float, FloatArray]:
    """Negative log-likelihood (FHL, Hardie 2013 note, eq. 4) and gradient in log-parameters.

    Gamma functions run on the distinct frequencies only; per row there is one log.
    """
    params = np.exp(log_params)
    p, q, g = params
    px = p * d.x_values
    psi, gammaln = special.digamma, special.gammaln
    u = g + d.m * d.x
    log_u = np.log(u)
    wx_log_u, w_log_u = dot(d.wx, log_u), dot(d.w, log_u)
    ll = (
        d.x_weight @ (gammaln(px + q) - gammaln(px))
        + d.sum_w * (q * np.log(g) - gammaln(q))
        + p * d.sum_wx_log_mx
        - d.sum_w_log_m
        - p * wx_log_u
        - q * w_log_u
    )
    d_p = d.x_weight @ (d.x_values * (psi(px + q) - psi(px))) + d.sum_wx_log_mx - wx_log_u
    d_q = d.x_weight @ psi(px + q) - d.sum_w * psi(q) + d.sum_w * np.log(g) - w_log_u
    d_g = d.sum_w * q / g - dot(p * d.wx + q * d.w, 1.0 / u)
    return -float(ll), -np.array([d_p, d_q, d_g]) * params


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    max_iter: int = 500,
) -> GammaGammaFit:
    """Maximum-likelihood p, q, gamma from repeat purchases x and mean repeat spend m.

    Rows with x == 0 or m <= 0 are ignored, so the whole customer summary can be passed.
    """
    x, m, w = _repeat_customers(frequency, monetary, weights)
    unit = float(np.average(m, weights=w))
    result = optimize.minimize(
        _negative_ll_and_gradient,
        np.log([1.0, 2.0, 1.0]),
        args=(_prepare(x, m / unit, w),),
        jac=True,
        method="SLSQP",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3,
        options={"maxiter": max_iter, "ftol": 1e-10},
    )
    p, q, g = (float(v) for v in np.exp(result.x))
    g *= unit
    log_likelihood = -float(result.fun) - float(w.sum() * np.log(unit))  # density of m, not m/unit
    converged, message = True, "converged"
    if not np.isfinite(result.fun) or np.any(np.abs(result.x) >= _LOG_BOUND - 1e-6):
        converged = False
        message = "a parameter ran to its bound: spend does not identify the model"
    elif not result.success:
        converged, message = False, f"optimizer stopped: {result.message}"
    return GammaGammaFit(p, q, g, log_likelihood, converged, message, int(np.rint(w.sum())))


def conditional_expected_spend(
    fit: GammaGammaFit, frequency: ArrayLike, monetary: ArrayLike
) -> FloatArray:
    """E[M | x, m]: expected value of a customer's future orders.

    A weighted mean of the population mean p*gamma/(q-1) and the customer's own mean m,
    with weight p*x/(p*x+q-1) on the customer; customers without repeat purchases get the
    population mean.
    """
    fit.require_converged()
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.maximum(np.asarray(monetary, dtype=float), 0.0), 0.0)  # refunds
    return fit.p * (fit.gamma + m * x) / (fit.p * x + fit.q - 1.0)


def predicted_clv(
    bgnbd: BgNbdFit,
    spend: GammaGammaFit,
    horizon: float,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    monetary: ArrayLike,
    *,
    discount_rate: float = 0.0,
    steps: int = 12,
) -> FloatArray:
    """Expected revenue over ``horizon`` time units: E[X(horizon)] x E[M].

    With ``discount_rate == 0`` (the default, and what DESIGN section 4 defines as predicted
    CLV) this is exactly purchases x spend. A positive rate is per ``horizon / steps`` period:
    purchases expected in each period are discounted by (1 + rate) ** period_index.
    """
    value = conditional_expected_spend(spend, frequency, monetary)
    if discount_rate == 0.0:
        return conditional_expected_purchases(bgnbd, horizon, frequency, recency, age) * value
    edges = np.linspace(0.0, horizon, steps + 1)
    cumulative = [
        conditional_expected_purchases(bgnbd, t, frequency, recency, age) if t > 0 else 0.0
        for t in edges
    ]
    total = sum(
        (cumulative[i] - cumulative[i - 1]) / (1.0 + discount_rate) ** i
        for i in range(1, steps + 1)
    )
    return np.asarray(total, dtype=float) * value
