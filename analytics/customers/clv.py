"""Customer lifetime value: the RFM summary, BG/NBD and Gamma-Gamma.

The summary (one row per customer, as of a day):

- ``frequency``: repeat purchases = distinct purchase days − 1;
- ``recency``: weeks from the first purchase day to the last;
- ``T``: weeks from the first purchase day to the as-of day;
- ``monetary_value``: the mean spend of the repeat purchase days (the first
  day left out), 0 for a customer who bought on one day only.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way")
gives P(alive) and the expected purchases over a horizon (the conditional
expectation of their eq. 10, with the Gauss hypergeometric 2F1); Gamma-Gamma
(Fader & Hardie 2013, "The Gamma-Gamma model of monetary value") the expected
spend per purchase. Both are fitted by maximum likelihood (scipy). Predicted
CLV over a horizon = expected purchases × expected spend per purchase, not
discounted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy import optimize, special
from threadpoolctl import threadpool_limits

__all__ = [
    "BetaGeo",
    "ClvFit",
    "GammaGamma",
    "MIN_CUSTOMERS",
    "MIN_CUSTOMERS_WITH_PRIORS",
    "MIN_REPEAT_CUSTOMERS",
    "MIN_REPEAT_WITH_PRIORS",
    "SUMMARY_COLUMNS",
    "bgnbd_log_likelihood",
    "clv_summary",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_clv",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "p_alive",
]

SUMMARY_COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value")
DAYS_PER_WEEK = 7.0
# Below these the fitted parameters are noise: no prediction, a warning instead.
MIN_CUSTOMERS = 50
MIN_REPEAT_CUSTOMERS = 20
# BG/NBD with priors (analytics/customers/clv_models.py) answers for smaller stores: the priors keep its
# estimates off the edges, and the range of each prediction says how little the orders tell.
MIN_CUSTOMERS_WITH_PRIORS = 10
MIN_REPEAT_WITH_PRIORS = 3


# -- the summary ------------------------------------------------------------------------------

def clv_summary(purchases: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """The RFM summary of :data:`SUMMARY_COLUMNS` from ``purchases`` (``customer_id``, ``day`` (a
    date), ``amount`` (a number)), keeping purchases on or before ``as_of``. Purchases of one
    customer on one day count as one purchase whose spend is their sum."""
    for column in ("customer_id", "day", "amount"):
        if column not in purchases.columns:
            raise ValueError(f"the purchases have no {column!r} column")
    days = (
        purchases.filter(pl.col("day") <= as_of)
        .group_by("customer_id", "day")
        .agg(pl.col("amount").cast(pl.Float64).sum())
        .sort("customer_id", "day")
    )
    first = pl.col("day").min()
    repeat = pl.col("day") > first
    summary = days.group_by("customer_id").agg(
        (pl.len() - 1).cast(pl.Int64).alias("frequency"),
        ((pl.col("day").max() - first).dt.total_days() / DAYS_PER_WEEK).alias("recency"),
        ((pl.lit(as_of) - first).dt.total_days() / DAYS_PER_WEEK).alias("T"),
        pl.col("amount").filter(repeat).mean().fill_null(0.0).alias("monetary_value"),
    )
    return summary.select(SUMMARY_COLUMNS).sort("customer_id")


def _arrays(*columns: Any) -> list[np.ndarray]:
    return [np.asarray(c, dtype=float) for c in columns]


# -- BG/NBD -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BetaGeo:
    """BG/NBD parameters: purchase rates ~ Gamma(r, α) (α in the summary's time unit), dropout
    probabilities ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


class _Unique:
    """An array kept as its distinct values and the index of each element's value: the logs and
    gamma functions of a log-likelihood are taken over the few distinct values, not every customer."""

    def __init__(self, values: np.ndarray) -> None:
        self.values, self.index = np.unique(values, return_inverse=True)

    def map(self, fn) -> np.ndarray:
        return fn(self.values)[self.index]


def bgnbd_log_likelihood(params: BetaGeo, frequency, recency, T) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood (FHL 2005 eq. 6), vectorised:
    ln L = ln A1 + ln A2 + ln(A3 + δ(x>0) A4), with
    A1 = Γ(r+x) α^r / Γ(r), A2 = B(a, b+x) / B(a, b), A3 = (α+T)^−(r+x),
    A4 = a / (b+x−1) · (α+t_x)^−(r+x); the last sum by logaddexp."""
    x, t_x, big_t = _arrays(frequency, recency, T)
    return _bgnbd_ll(params.r, params.alpha, params.a, params.b, _Unique(x), t_x, big_t)


def _bgnbd_ll(r: float, alpha: float, a: float, b: float, xs: _Unique, t_x: np.ndarray,
              big_t: np.ndarray, *, gradient: bool = False):
    """The log-likelihoods, and with ``gradient`` also their derivatives by (r, α, a, b)."""
    x = xs.values[xs.index]
    ln_alpha_t, ln_alpha_tx = np.log(alpha + big_t), np.log(alpha + t_x)
    ln_a1 = xs.map(lambda v: special.gammaln(r + v)) - special.gammaln(r) + r * np.log(alpha)
    ln_a2 = xs.map(lambda v: special.betaln(a, b + v)) - special.betaln(a, b)
    ln_a3 = -(r + x) * ln_alpha_t
    repeat = x > 0
    ln_a4 = np.full_like(x, -np.inf)
    ln_a4[repeat] = np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * ln_alpha_tx[repeat]
    mixed = np.logaddexp(ln_a3, ln_a4)
    ll = ln_a1 + ln_a2 + mixed
    if not gradient:
        return ll
    # Weights of the two terms of the mixture: d ln(e^A3 + e^A4) = w3 dA3 + w4 dA4.
    w3, w4 = np.exp(ln_a3 - mixed), np.exp(ln_a4 - mixed)
    psi = special.digamma
    d_r = xs.map(lambda v: psi(r + v)) - psi(r) + np.log(alpha) - w3 * ln_alpha_t - w4 * ln_alpha_tx
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + big_t) + w4 / (alpha + t_x))
    psi_abx = xs.map(lambda v: psi(a + b + v))
    d_a = psi(a + b) - psi_abx + w4 / a
    with np.errstate(divide="ignore", invalid="ignore"):
        d_b = (xs.map(lambda v: psi(b + v)) - psi_abx - psi(b) + psi(a + b)
               - np.where(repeat, w4 / np.where(repeat, b + x - 1, 1.0), 0.0))
    return ll, np.stack([d_r, d_alpha, d_a, d_b])


def _check_summary(frequency: np.ndarray, recency: np.ndarray, T: np.ndarray) -> None:
    if not (len(frequency) == len(recency) == len(T)):
        raise ValueError("frequency, recency and T must have the same length")
    if np.any(frequency < 0) or np.any(frequency != np.floor(frequency)):
        raise ValueError("frequency must be whole numbers ≥ 0")
    if np.any(recency < 0) or np.any(recency > T + 1e-9):
        raise ValueError("recency must lie between 0 and T")
    if np.any((frequency == 0) & (recency != 0)):
        raise ValueError("a customer without repeat purchases must have recency 0")


def _minimize(objective, starts: list[np.ndarray]) -> tuple[np.ndarray, bool, float]:
    """Minimise ``objective`` (value and gradient) over log-parameters with L-BFGS-B from each start,
    keeping the best; Nelder-Mead from the best point when no start converged."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _minimize_from(objective, starts)


def _minimize_from(objective, starts: list[np.ndarray]) -> tuple[np.ndarray, bool, float]:
    # The optimiser works on vectors of 3 or 4 numbers: BLAS threads only add waiting.
    best = None
    for start in starts:
        result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B",
                                   options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9})
        if best is None or result.fun < best.fun:
            best = result
    converged = bool(best.success and np.isfinite(best.fun))
    if not converged:
        polished = optimize.minimize(lambda v: objective(v)[0], best.x, method="Nelder-Mead",
                                     options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000})
        if polished.fun <= best.fun:
            best = polished
        converged = bool(polished.success and np.isfinite(best.fun))
    return best.x, converged, float(best.fun)


def _weighted_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of ``columns`` and how many customers share each (identical customers add
    identical terms to a log-likelihood)."""
    names = [f"c{i}" for i in range(len(columns))]
    rows = pl.DataFrame(dict(zip(names, columns))).group_by(names).len()
    return [rows[name].to_numpy() for name in names], rows["len"].to_numpy().astype(float)


def fit_bgnbd(frequency, recency, T) -> tuple[BetaGeo, float, bool]:
    """Maximum-likelihood BG/NBD parameters, the total log-likelihood and whether it converged."""
    x, t_x, big_t = _arrays(frequency, recency, T)
    _check_summary(x, t_x, big_t)
    n = len(x)
    (x, t_x, big_t), weight = _weighted_rows(x, t_x, big_t)
    xs = _Unique(x)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(np.clip(log_params, -30, 30))
        ll, grad = _bgnbd_ll(*params, xs, t_x, big_t, gradient=True)
        # Weighted sums without BLAS (its threads only contend on a busy machine).
        total = float(np.sum(weight * ll))
        if not np.isfinite(total):
            return np.inf, np.zeros(4)
        # d/d(log θ) = θ · d/dθ; averaged per customer to keep the scale of the tolerances.
        return -total / n, -np.sum(grad * weight, axis=1) * params / n

    mean_t = max(float(np.mean(big_t)), 1e-3)
    starts = [np.log([1.0, mean_t, 1.0, 1.0]), np.log([0.1, 0.1 * mean_t, 0.5, 2.0])]
    log_params, converged, value = _minimize(objective, starts)
    r, alpha, a, b = (float(v) for v in np.exp(log_params))
    return BetaGeo(r, alpha, a, b), -value * n, converged


def p_alive(params: BetaGeo, frequency, recency, T) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) (FHL 2005)."""
    x, t_x, big_t = _arrays(frequency, recency, T)
    return 1.0 / (1.0 + _dropout_odds(params, x, t_x, big_t))


def _dropout_odds(params: BetaGeo, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds = (np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                    + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x)))
        return np.where(x > 0, np.exp(log_odds), 0.0)


def expected_purchases(params: BetaGeo, horizon: float, frequency, recency, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T], the purchases expected in the next ``horizon`` time units (FHL 2005 eq. 10):
    (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))] ÷
    (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))."""
    x, t_x, big_t = _arrays(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = float(horizon)
    z = t / (alpha + big_t + t)
    hyper = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    ratio = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t)))
    numerator = (a + b + x - 1) / (a - 1) * (1.0 - ratio * hyper)
    return numerator / (1.0 + _dropout_odds(params, x, t_x, big_t))


# -- Gamma-Gamma --------------------------------------------------------------------------------

@dataclass(frozen=True)
class GammaGamma:
    """Gamma-Gamma parameters: spend per purchase ~ Gamma(p, ν), ν ~ Gamma(q, γ) (``v`` = γ)."""

    p: float
    q: float
    v: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}

    @property
    def mean_spend(self) -> float | None:
        """The population's mean spend per purchase, p·γ/(q−1); none when q ≤ 1 (no finite mean)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else None


def gamma_gamma_log_likelihood(params: GammaGamma, frequency, monetary_value) -> np.ndarray:
    """Each customer's Gamma-Gamma log-likelihood of the mean spend m̄ of x > 0 purchases, up to
    terms free of the parameters: ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m̄ + px ln x −
    (px+q) ln(γ + x m̄)."""
    x, m = _arrays(frequency, monetary_value)
    p, q, v = params.p, params.q, params.v
    return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q) + q * np.log(v)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(v + x * m))


def fit_gamma_gamma(frequency, monetary_value, prior_mean: np.ndarray | None = None,
                    prior_sd: float = 1.5) -> tuple[GammaGamma, float, bool]:
    """Maximum-likelihood Gamma-Gamma parameters from customers with frequency > 0 and positive
    mean spend, the total log-likelihood (without the prior) and whether it converged; with
    ``prior_mean`` (the log of p, q, γ), maximum a posteriori under normal priors of ``prior_sd`` on
    the log-parameters."""
    x, m = _arrays(frequency, monetary_value)
    if np.any(x <= 0) or np.any(m <= 0):
        raise ValueError("Gamma-Gamma is fitted on customers with repeat purchases and positive spend only")
    n = len(x)
    (x, m), weight = _weighted_rows(x, m)
    ln_m, ln_x = np.log(m), np.log(x)

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = params = np.exp(np.clip(log_params, -30, 30))
        total = float(np.sum(weight * gamma_gamma_log_likelihood(GammaGamma(p, q, v), x, m)))
        if not np.isfinite(total):
            return np.inf, np.zeros(3)
        psi_pxq, ln_vxm = special.digamma(p * x + q), np.log(v + x * m)
        d_p = x * (psi_pxq - special.digamma(p * x) + ln_m + ln_x - ln_vxm)
        d_q = psi_pxq - special.digamma(q) + np.log(v) - ln_vxm
        d_v = q / v - (p * x + q) / (v + x * m)
        grad = np.sum(np.stack([d_p, d_q, d_v]) * weight, axis=1)
        if prior_mean is None:
            return -total / n, -grad * params / n
        z = (log_params - prior_mean) / prior_sd
        return (-total + 0.5 * float(z @ z)) / n, (-grad * params + z / prior_sd) / n

    mean_m = max(float(np.mean(m)), 1e-3)
    starts = [np.log([1.0, 1.0, mean_m]), np.log([5.0, 3.0, mean_m])]
    if prior_mean is not None:
        starts.append(np.asarray(prior_mean, dtype=float))
    log_params, converged, _ = _minimize(objective, starts)
    p, q, v = (float(val) for val in np.exp(log_params))
    fitted = GammaGamma(p, q, v)
    return fitted, float(np.sum(weight * gamma_gamma_log_likelihood(fitted, x, m))), converged


def expected_spend(params: GammaGamma, frequency, monetary_value) -> np.ndarray:
    """E[M | x, m̄] = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m̄ = p(γ + x m̄)/(px + q − 1);
    for x = 0 the population mean pγ/(q−1)."""
    x, m = _arrays(frequency, monetary_value)
    p, q, v = params.p, params.q, params.v
    return p * (v + x * m) / (p * x + q - 1)


# -- the whole fit ------------------------------------------------------------------------------

@dataclass
class ClvFit:
    """A fitted CLV model and each customer's prediction (``predictions`` is ``None`` when the data
    were too few or a fit failed; ``warnings`` says why). ``model`` names the purchase-count model
    (``bgnbd``, ``mbgnbd`` or ``bgnbd_map``: see ``clv_models.py``); with a range, ``predictions`` also
    has ``predicted_clv_low`` and ``predicted_clv_high`` (the 90 % range of the expected value)."""

    bgnbd: BetaGeo | None
    gamma_gamma: GammaGamma | None
    horizon_days: int
    predictions: pl.DataFrame | None
    warnings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    model: str = "bgnbd"

    def params(self) -> dict[str, Any]:
        """The ``model_runs.params`` of a CLV run."""
        return {
            "time_unit": "week",
            "model": self.model,
            "bgnbd": self.bgnbd.as_dict() if self.bgnbd else None,
            "gamma_gamma": self.gamma_gamma.as_dict() if self.gamma_gamma else None,
        }


def fit_clv(summary: pl.DataFrame, horizon_days: int, model: str = "bgnbd", *,
            with_range: bool = False) -> ClvFit:
    """Fit the purchase-count ``model`` (BG/NBD by maximum likelihood unless told otherwise) on every
    customer of ``summary`` and Gamma-Gamma on those with repeat purchases and positive mean spend,
    then predict for every customer: ``p_alive``, ``expected_purchases`` over ``horizon_days`` and
    ``predicted_clv`` = expected purchases × expected spend per purchase (and its 90 % range with
    ``with_range``)."""
    from analytics.customers.clv_models import (
        PRIOR_SD, expected_purchases_of, fit_count_model, p_alive_of, prediction_range, spend_prior_means,
    )

    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"the summary has no {missing[0]!r} column")
    if horizon_days <= 0:
        raise ValueError("the horizon must be at least one day")
    n = summary.height
    repeaters = summary.filter(pl.col("frequency") > 0)
    spenders = repeaters.filter(pl.col("monetary_value") > 0)
    metrics: dict[str, Any] = {"customers": n, "repeat_customers": repeaters.height,
                               "gamma_gamma_customers": spenders.height}
    fit = ClvFit(None, None, horizon_days, None, metrics=metrics, model=model)
    least, least_repeat = ((MIN_CUSTOMERS_WITH_PRIORS, MIN_REPEAT_WITH_PRIORS) if model == "bgnbd_map"
                           else (MIN_CUSTOMERS, MIN_REPEAT_CUSTOMERS))
    if n < least or spenders.height < least_repeat:
        fit.warnings.append(
            f"Too little data to predict lifetime value: {n:,} customers of whom {spenders.height:,} bought "
            f"again; the model needs at least {least} customers and {least_repeat} who bought again.")
        return fit
    count_fit = fit_count_model(model, summary["frequency"], summary["recency"], summary["T"],
                                with_covariance=with_range)
    bgnbd, ll_bg, ok_bg = count_fit.params, count_fit.log_likelihood, count_fit.converged
    spend_prior = spend_prior_means(spenders["monetary_value"]) if model == "bgnbd_map" else None
    gg, ll_gg, ok_gg = fit_gamma_gamma(spenders["frequency"], spenders["monetary_value"], spend_prior, PRIOR_SD)
    fit.bgnbd, fit.gamma_gamma = bgnbd, gg
    metrics.update({"bgnbd_log_likelihood": ll_bg, "gamma_gamma_log_likelihood": ll_gg})
    # Gamma-Gamma assumes spend per purchase independent of how often a customer buys.
    if spenders.height > 2:
        corr = np.corrcoef(spenders["frequency"].to_numpy().astype(float), spenders["monetary_value"].to_numpy())
        metrics["frequency_monetary_correlation"] = float(corr[0, 1])
    # A parameter running off to 0 or ∞ means the data do not identify the model (e.g. no sign that
    # customers differ in how soon they stop): the estimates are not usable for prediction.
    edge = [name for name, value in (*bgnbd.as_dict().items(), *gg.as_dict().items())
            if not 1e-4 < value < 1e5]
    if edge or not (ok_bg and ok_gg):
        metrics["unusable_fit"] = {"bgnbd": bgnbd.as_dict(), "gamma_gamma": gg.as_dict()}
        fit.bgnbd = fit.gamma_gamma = None
        # The parameters' names stay in the run's metrics (unusable_fit); the page says it in words.
        reason = ("the model cannot tell these customers' buying habits apart" if edge
                  else "the model's fit did not settle on an answer")
        fit.warnings.append(f"Lifetime value cannot be predicted from these orders yet: {reason}, which happens "
                            f"when there are few customers ({n:,}, {spenders.height:,} of whom bought again) or "
                            "little history. No prediction is given.")
        return fit
    if gg.q <= 1:
        fit.warnings.append("The spend model found no typical spend per order for these customers (a few "
                            "very large orders dominate), so no value is predicted.")
        fit.bgnbd = fit.gamma_gamma = None
        return fit
    if abs(metrics.get("frequency_monetary_correlation", 0.0)) > 0.3:
        direction = "more" if metrics["frequency_monetary_correlation"] > 0 else "less"
        fit.warnings.append(f"Customers who buy more often spend {direction} per order here (a correlation of "
                            f"{abs(metrics['frequency_monetary_correlation']):.0%}); the spend model assumes "
                            "they do not, so treat predicted values with care.")
    x, t_x, big_t = (summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    m = summary["monetary_value"].to_numpy().astype(float)
    horizon = horizon_days / DAYS_PER_WEEK
    purchases = expected_purchases_of(model, bgnbd, horizon, x, t_x, big_t)
    # Customers without repeat purchases (or with none of positive spend) get the population mean.
    spend = np.where((x > 0) & (m > 0), expected_spend(gg, x, m), gg.mean_spend)
    alive = p_alive_of(model, bgnbd, x, t_x, big_t)
    value = purchases * spend
    broken = ~(np.isfinite(alive) & np.isfinite(purchases) & np.isfinite(value))
    if broken.any():
        fit.warnings.append(f"The prediction of {int(broken.sum()):,} customers could not be computed "
                            "(a numerical overflow) and is left empty.")
        alive, purchases, value = (np.where(broken, np.nan, a) for a in (alive, purchases, value))
    columns = [pl.Series("p_alive", alive), pl.Series("expected_purchases", purchases),
               pl.Series("expected_spend", spend), pl.Series("predicted_clv", value)]
    if with_range:
        spend_data = (spenders["frequency"].to_numpy().astype(float), spenders["monetary_value"].to_numpy())
        bounds = prediction_range(count_fit, gg, horizon, x, t_x, big_t, m, spend_data, spend_prior=spend_prior)
        low, high = bounds if bounds is not None else (np.full(n, np.nan), np.full(n, np.nan))
        if bounds is None:
            fit.warnings.append("The range of each prediction could not be worked out (the fit's curvature "
                                "is flat in some direction); the predictions stand without one.")
        columns += [pl.Series("predicted_clv_low", np.where(broken, np.nan, low)),
                    pl.Series("predicted_clv_high", np.where(broken, np.nan, high))]
    fit.predictions = summary.with_columns(*columns).with_columns(
        pl.col(s.name for s in columns).fill_nan(None))
    return fit
