"""BG/NBD repeat-purchase model (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

Inputs per customer: ``frequency`` x (repeat purchases), ``recency`` t_x (age at the last
purchase, measured from the first) and ``age`` T (time since the first purchase), all in one
time unit of the caller's choosing (days in the service, weeks for the CDNOW reference data).
Everything is computed in log space so that one customer, customers without repeat purchases
and customers with hundreds of purchases neither overflow nor produce NaN.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

FloatArray = NDArray[np.float64]

# Log-parameter box: exp(+-12) spans 6e-6 .. 1.6e5, far beyond any sensible fit. A solution on
# the box edge means the data do not identify the model, and is reported as non-converged.
_LOG_BOUND = 12.0


class FitError(ValueError):
    """The data cannot be fitted, or a prediction was asked of a fit that did not converge."""


@dataclass(frozen=True)
class BgNbdFit:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool
    message: str
    n_customers: int

    def require_converged(self) -> BgNbdFit:
        if not self.converged:
            raise FitError(f"BG/NBD fit did not converge: {self.message}")
        return self


@dataclass(frozen=True)
class Summary:
    """Deduplicated (x, t_x, T) rows with the number of customers sharing each row."""

    frequency: FloatArray
    recency: FloatArray
    age: FloatArray
    weights: FloatArray


def validate_summary(frequency: ArrayLike, recency: ArrayLike, age: ArrayLike,
                     weights: ArrayLike | None = None) -> Summary:
    x, t_x, big_t = (np.asarray(v, dtype=float).ravel() for v in (frequency, recency, age))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if not (x.size == t_x.size == big_t.size == w.size):
        raise FitError("frequency, recency, age and weights must have the same length")
    if x.size == 0:
        raise FitError("no customers to fit")
    if not np.all(np.isfinite(np.stack([x, t_x, big_t, w]))):
        raise FitError("inputs contain NaN or infinity")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(w < 0) or np.any(x != np.round(x)):
        raise FitError("frequency must be a non-negative integer; recency and weights >= 0")
    if np.any(t_x > big_t + 1e-9):
        raise FitError("recency cannot exceed age")
    return Summary(x, t_x, big_t, w)


def group_summary(frequency: ArrayLike, recency: ArrayLike, age: ArrayLike,
                  weights: ArrayLike | None = None) -> Summary:
    """Collapse identical (x, t_x, T) rows into one row with summed weights."""
    s = validate_summary(frequency, recency, age, weights)
    rows = np.stack([s.frequency, s.recency, s.age], axis=1)
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    w = np.bincount(inverse.ravel(), weights=s.weights, minlength=len(unique)).astype(float)
    return Summary(unique[:, 0].copy(), unique[:, 1].copy(), unique[:, 2].copy(), w)


def _terms(params: FloatArray, s: Summary) -> tuple[FloatArray, ...]:
    r, alpha, a, b = params
    x, t_x, big_t = s.frequency, s.recency, s.age
    has_repeat = x > 0
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (special.gammaln(a + b) + special.gammaln(b + x)
          - special.gammaln(b) - special.gammaln(a + b + x))
    a3 = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(b + x - 1.0) - (r + x) * np.log(alpha + t_x)
    a4 = np.where(has_repeat, a4, -np.inf)
    return a1, a2, a3, a4


def individual_log_likelihood(params: ArrayLike, s: Summary) -> FloatArray:
    a1, a2, a3, a4 = _terms(np.asarray(params, dtype=float), s)
    return a1 + a2 + np.logaddexp(a3, a4)


def _negative_ll_and_gradient(log_params: FloatArray, s: Summary) -> tuple[float, FloatArray]:
    params = np.exp(log_params)
    r, alpha, a, b = params
    x, t_x, big_t, w = s.frequency, s.recency, s.age, s.weights
    a1, a2, a3, a4 = _terms(params, s)
    lse = np.logaddexp(a3, a4)
    s3 = np.exp(a3 - lse)
    s4 = 1.0 - s3
    psi = special.digamma
    d_r = psi(r + x) - psi(r) + np.log(alpha) - s3 * np.log(alpha + big_t) - s4 * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (s3 / (alpha + big_t) + s4 / (alpha + t_x))
    d_a = psi(a + b) - psi(a + b + x) + s4 / a
    with np.errstate(divide="ignore"):
        d_b_last = np.where(x > 0, s4 / np.maximum(b + x - 1.0, 1e-300), 0.0)
    d_b = psi(a + b) + psi(b + x) - psi(b) - psi(a + b + x) - d_b_last
    grad = np.array([w @ d_r, w @ d_alpha, w @ d_a, w @ d_b]) * params
    return -float(w @ (a1 + a2 + lse)), -grad


def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, age: ArrayLike,
              weights: ArrayLike | None = None, *, max_iter: int = 500) -> BgNbdFit:
    """Maximum-likelihood r, alpha, a, b. Identical rows are grouped first (weights add up)."""
    s = group_summary(frequency, recency, age, weights)
    n = int(np.rint(s.weights.sum()))
    if not np.any((s.frequency > 0) & (s.weights > 0)):
        raise FitError("no customer has a repeat purchase; BG/NBD needs some to fit")
    scale = max(float(np.average(s.age, weights=s.weights)), 1e-9)
    start = np.log(np.array([1.0, scale, 1.0, 1.0]))
    result = optimize.minimize(
        _negative_ll_and_gradient, start, args=(s,), jac=True, method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4, options={"maxiter": max_iter, "gtol": 1e-7},
    )
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    converged, message = _judge(result)
    return BgNbdFit(r, alpha, a, b, -float(result.fun), converged, message, n)


def _judge(result: optimize.OptimizeResult) -> tuple[bool, str]:
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        return False, "likelihood became non-finite"
    if np.any(np.abs(result.x) >= _LOG_BOUND - 1e-6):
        return False, "a parameter ran to its bound: the data do not identify the model"
    if not result.success:
        return False, f"optimizer stopped: {result.message}"
    return True, "converged"


def _log_odds_dead(fit: BgNbdFit, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
    """log of (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x); -inf when x == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (np.log(fit.a) - np.log(fit.b + x - 1.0)
                 + (fit.r + x) * (np.log(fit.alpha + big_t) - np.log(fit.alpha + t_x)))
    return np.where(x > 0, value, -np.inf)


def _customer_arrays(frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> Summary:
    return validate_summary(frequency, recency, age)


def probability_alive(fit: BgNbdFit, frequency: ArrayLike, recency: ArrayLike,
                      age: ArrayLike) -> FloatArray:
    """P(customer is still active at age T | x, t_x, T)."""
    s = _customer_arrays(frequency, recency, age)
    fit.require_converged()
    return special.expit(-_log_odds_dead(fit, s.frequency, s.recency, s.age))


def conditional_expected_purchases(fit: BgNbdFit, t: float, frequency: ArrayLike,
                                   recency: ArrayLike, age: ArrayLike) -> FloatArray:
    """E[X(t) | x, t_x, T]: expected purchases in the next t time units (FHL 2005, eq. 10).

    Pfaff's transformation folds ((alpha+T)/(alpha+T+t))^(r+x) into the hypergeometric term,
    2F1(r+x, a-1; a+b+x-1; -t/(alpha+T)), which stays finite for any frequency.
    """
    s = _customer_arrays(frequency, recency, age)
    fit.require_converged()
    x, big_t = s.frequency, s.age
    a_minus_1 = fit.a - 1.0 if abs(fit.a - 1.0) > 1e-7 else 1e-7
    hyp = special.hyp2f1(fit.r + x, a_minus_1, fit.a + fit.b + x - 1.0, -t / (fit.alpha + big_t))
    numerator = (fit.a + fit.b + x - 1.0) / a_minus_1 * (1.0 - hyp)
    return numerator * special.expit(-_log_odds_dead(fit, x, s.recency, big_t))


def expected_purchases_new_customer(fit: BgNbdFit, t: ArrayLike) -> FloatArray:
    """E[X(t)] for a customer just acquired (FHL 2005, eq. 9)."""
    fit.require_converged()
    t = np.asarray(t, dtype=float)
    a_minus_1 = fit.a - 1.0 if abs(fit.a - 1.0) > 1e-7 else 1e-7
    z = t / (fit.alpha + t)
    hyp = special.hyp2f1(fit.r, fit.b, fit.a + fit.b - 1.0, z)
    return (fit.a + fit.b - 1.0) / a_minus_1 * (1.0 - (fit.alpha / (fit.alpha + t)) ** fit.r * hyp)


def expected_next_purchase_time(fit: BgNbdFit, frequency: ArrayLike, recency: ArrayLike,
                                age: ArrayLike) -> FloatArray:
    """Age at which the next purchase is expected, for a customer who is still active.

    The customer's purchase rate as known at the last purchase is Gamma(r + x, alpha + t_x);
    the waiting time to the next purchase is then Lomax-distributed and its median is
    (alpha + t_x) * (2 ** (1 / (r + x)) - 1). The answer is t_x plus that median, so it can lie
    before T: such a customer is overdue. A median rather than a mean because the mean is
    infinite when r + x <= 1 (one-time buyers).
    """
    s = _customer_arrays(frequency, recency, age)
    fit.require_converged()
    shape = fit.r + s.frequency
    return s.recency + (fit.alpha + s.recency) * np.expm1(np.log(2.0) / shape)
