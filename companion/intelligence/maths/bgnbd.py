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

from companion.intelligence.maths.numeric import dot

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


def validate_summary(
    frequency: ArrayLike, recency: ArrayLike, age: ArrayLike, weights: ArrayLike | None = None
) -> Summary:
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


def group_summary(
    frequency: ArrayLike, recency: ArrayLike, age: ArrayLike, weights: ArrayLike | None = None
) -> Summary:
    """Collapse identical (x, t_x, T) rows into one row with summed weights."""
    s = validate_summary(frequency, recency, age, weights)
    order = np.lexsort((s.age, s.recency, s.frequency))
    x, t_x, big_t = s.frequency[order], s.recency[order], s.age[order]
    new_row = np.ones(x.size, dtype=bool)
    new_row[1:] = (np.diff(x) != 0) | (np.diff(t_x) != 0) | (np.diff(big_t) != 0)
    starts = np.flatnonzero(new_row)
    w = np.add.reduceat(s.weights[order], starts) if starts.size else s.weights[:0]
    return Summary(x[starts], t_x[starts], big_t[starts], w.astype(float))


@dataclass(frozen=True)
class _Prepared:
    """A summary split into its distinct x, t_x and T values plus per-row indices.

    Special functions then run on the ~100 distinct frequencies and the sums over all rows
    on the few hundred distinct ages; per row, only repeat customers need arithmetic.
    """

    x_values: FloatArray
    x_weight: FloatArray  # total weight per distinct x
    age_values: FloatArray
    age_weight: FloatArray  # total weight per distinct T
    age_weight_x: FloatArray  # total weight * x per distinct T
    recency_values: FloatArray
    # repeat rows only (x > 0):
    x: FloatArray
    w: FloatArray
    x_index: NDArray[np.intp]
    age_index: NDArray[np.intp]
    recency_index: NDArray[np.intp]


def _prepare(s: Summary) -> _Prepared:
    x_values, x_index = np.unique(s.frequency, return_inverse=True)
    age_values, age_index = np.unique(s.age, return_inverse=True)
    recency_values, recency_index = np.unique(s.recency, return_inverse=True)
    per_x = np.bincount(x_index, weights=s.weights, minlength=x_values.size).astype(float)
    per_age = np.bincount(age_index, weights=s.weights, minlength=age_values.size).astype(float)
    per_age_x = np.bincount(
        age_index, weights=s.weights * s.frequency, minlength=age_values.size
    ).astype(float)
    rep = s.frequency > 0
    return _Prepared(
        x_values,
        per_x,
        age_values,
        per_age,
        per_age_x,
        recency_values,
        s.frequency[rep],
        s.weights[rep],
        x_index[rep],
        age_index[rep],
        recency_index[rep],
    )


def individual_log_likelihood(params: ArrayLike, s: Summary) -> FloatArray:
    """Log-likelihood of each row of ``s`` (FHL 2005, eq. 6, in log space)."""
    r, alpha, a, b = np.asarray(params, dtype=float)
    x, t_x, big_t = s.frequency, s.recency, s.age
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(b + x - 1.0) - (r + x) * np.log(alpha + t_x)
    return a1 + a2 + np.logaddexp(a3, np.where(x > 0, a4, -np.inf))


def _negative_ll_and_gradient(log_params: FloatArray, d: _Prepared) -> tuple[float, FloatArray]:
    """Negative log-likelihood and its gradient in log-parameters (for the optimizer).

    Per row, log L = A1 + A2 - (r+x) log(alpha+T) + softplus(D) where, for repeat customers,
    D = log a - log(b+x-1) + (r+x) (log(alpha+T) - log(alpha+t_x)) is the log-odds of the
    "dropped out right after the last purchase" branch (D = -inf for x = 0).
    """
    params = np.exp(log_params)
    r, alpha, a, b = params
    ux, psi, gammaln = d.x_values, special.digamma, special.gammaln
    log_age_k = np.log(alpha + d.age_values)
    inv_age_k = 1.0 / (alpha + d.age_values)
    log_rec_k = np.log(alpha + d.recency_values)
    inv_bx1 = 1.0 / np.maximum(b + ux - 1.0, 1e-300)
    rx = r + d.x
    log_gap = log_age_k[d.age_index] - log_rec_k[d.recency_index]  # >= 0
    odds = (np.log(a) + np.log(inv_bx1))[d.x_index] + rx * log_gap
    softplus = np.maximum(odds, 0.0) + np.log1p(np.exp(-np.abs(odds)))
    ws4 = d.w * np.exp(odds - softplus)  # weight x P(dropped-out branch | row)
    per_x = (
        gammaln(r + ux)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + ux)
        - gammaln(b)
        - gammaln(a + b + ux)
    )
    age_mass = r * d.age_weight + d.age_weight_x  # sum of w (r + x) per distinct T
    ll = d.x_weight @ per_x - age_mass @ log_age_k + dot(d.w, softplus)
    inv_gap = (1.0 / (alpha + d.recency_values))[d.recency_index] - inv_age_k[d.age_index]
    grad = np.array(
        [
            d.x_weight @ (psi(r + ux) - psi(r) + np.log(alpha))
            - d.age_weight @ log_age_k
            + dot(ws4, log_gap),
            d.x_weight.sum() * r / alpha - age_mass @ inv_age_k - dot(ws4 * rx, inv_gap),
            d.x_weight @ (psi(a + b) - psi(a + b + ux)) + ws4.sum() / a,
            d.x_weight @ (psi(a + b) + psi(b + ux) - psi(b) - psi(a + b + ux))
            - dot(ws4, inv_bx1[d.x_index]),
        ]
    )
    return -float(ll), -grad * params


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    max_iter: int = 500,
) -> BgNbdFit:
    """Maximum-likelihood r, alpha, a, b. Identical rows are grouped first (weights add up)."""
    s = group_summary(frequency, recency, age, weights)
    n = int(np.rint(s.weights.sum()))
    if not np.any((s.frequency > 0) & (s.weights > 0)):
        raise FitError("no customer has a repeat purchase; BG/NBD needs some to fit")
    scale = max(float(np.average(s.age, weights=s.weights)), 1e-9)
    start = np.log(np.array([1.0, scale, 1.0, 1.0]))
    result = optimize.minimize(
        _negative_ll_and_gradient,
        start,
        args=(_prepare(s),),
        jac=True,
        method="SLSQP",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4,
        options={"maxiter": max_iter, "ftol": 1e-10},
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
        value = (
            np.log(fit.a)
            - np.log(fit.b + x - 1.0)
            + (fit.r + x) * (np.log(fit.alpha + big_t) - np.log(fit.alpha + t_x))
        )
    return np.where(x > 0, value, -np.inf)


def _customer_arrays(frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> Summary:
    return validate_summary(frequency, recency, age)


def probability_alive(
    fit: BgNbdFit, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> FloatArray:
    """P(customer is still active at age T | x, t_x, T)."""
    s = _customer_arrays(frequency, recency, age)
    fit.require_converged()
    return special.expit(-_log_odds_dead(fit, s.frequency, s.recency, s.age))


def conditional_expected_purchases(
    fit: BgNbdFit, t: float, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> FloatArray:
    """E[X(t) | x, t_x, T]: expected purchases in the next t time units (FHL 2005, eq. 10).

    Euler's transformation turns ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; c; w) into
    ((alpha+T)/(alpha+T+t))^(a-1) 2F1(a+b-1-r, a-1; c; w), c = a+b+x-1, w = t/(alpha+T+t) in
    [0, 1): no power of r+x, so nothing overflows for any frequency. (A Pfaff form with argument
    -t/(alpha+T) < -1 was used before: scipy's hyp2f1 returns garbage there, 1e36 purchases.)
    """
    s = _customer_arrays(frequency, recency, age)
    fit.require_converged()
    x, big_t = s.frequency, s.age
    a_minus_1 = fit.a - 1.0 if abs(fit.a - 1.0) > 1e-7 else 1e-7
    shrink = (fit.alpha + big_t) / (fit.alpha + big_t + t)
    hyp = shrink**a_minus_1 * special.hyp2f1(
        fit.a + fit.b - 1.0 - fit.r, a_minus_1, fit.a + fit.b + x - 1.0, 1.0 - shrink
    )
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


def expected_next_purchase_time(
    fit: BgNbdFit, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> FloatArray:
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
