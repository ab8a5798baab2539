"""The lifetime value models beside BG/NBD (MBG/NBD, BG/NBD with priors), the choice between them on
a holdout of the store's own history, and the range of each prediction."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from analytics.customers.clv import BetaGeo, clv_summary, fit_clv
from analytics.customers.clv_holdout import choose_model, fit_chosen_clv, holdout_days_for
from analytics.customers.clv_models import (
    expected_purchases_of, fit_count_model, mbgnbd_log_likelihood, p_alive_of,
)

START = dt.date(2024, 1, 1)


def simulate(n: int, r: float, alpha: float, dropout: tuple[float, float] | None, days: int = 730,
             seed: int = 1) -> tuple[pl.DataFrame, dt.date]:
    """Purchases of ``n`` customers who each arrive on a uniform day of the first 80 % of ``days``,
    buy at a rate ~ Gamma(r, α) per week and, after each repeat purchase, stop with a probability ~
    Beta(*dropout) (never, without ``dropout``): the BG/NBD story."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1 / alpha, n)
    stop = rng.beta(*dropout, n) if dropout else np.zeros(n)
    customers, weeks, amounts = [], [], []
    for i in range(n):
        t = rng.uniform(0, days * 0.8) / 7
        while t <= days / 7:
            customers.append(f"c{i}")
            weeks.append(t)
            amounts.append(float(rng.gamma(4, 10)))
            if len(customers) > 1 and customers[-2] == customers[-1] and rng.random() < stop[i]:
                break
            t += rng.exponential(1 / rates[i])
    purchases = pl.DataFrame({"customer_id": customers,
                              "day": [START + dt.timedelta(days=int(w * 7)) for w in weeks], "amount": amounts})
    return purchases, START + dt.timedelta(days=days)


def test_mbgnbd_likelihood_and_p_alive_by_hand():
    params = BetaGeo(r=1.0, alpha=2.0, a=1.0, b=2.0)
    # x = 0, T = 4: Γ(1)·2/Γ(1) · [B(1,3)/B(1,2) · 6⁻¹ + B(2,2)/B(1,2) · 2⁻¹] = 2 · (2/3 / 6 + 1/3 / 2) = 5/9.
    # x = 2, t_x = 3, T = 4: Γ(3)·2/Γ(1) · [B(1,5)/B(1,2) · 6⁻³ + B(2,4)/B(1,2) · 5⁻³]
    #   = 4 · (2/5 / 216 + 1/10 / 125).
    ll = mbgnbd_log_likelihood(params, [0, 2], [0, 3], [4, 4])
    assert ll == pytest.approx([math.log(5 / 9), math.log(4 * (0.4 / 216 + 0.1 / 125))], rel=1e-12)
    # P(alive) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)): 1/(1 + ½·3) = 0.4 for the customer who never
    # came back (BG/NBD says 1), 1/(1 + ¼·1.2³) for the other.
    assert p_alive_of("mbgnbd", params, [0, 2], [0, 3], [4, 4]) == pytest.approx([0.4, 1 / (1 + 1.2 ** 3 / 4)])
    assert p_alive_of("bgnbd", params, [0], [0], [4]) == pytest.approx([1.0])


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd"], ids=["bg-nbd", "mbg-nbd"])
def test_expected_purchases_of_a_new_customer_match_a_simulation(kind):
    """E[X(t)] of a customer just acquired (x = t_x = T = 0) against 400,000 simulated customers: rates
    ~ Gamma(r, α), purchases a Poisson process, a coin p ~ Beta(a, b) after each repeat purchase (BG/NBD)
    or after every purchase, the first included (MBG/NBD)."""
    params, t = BetaGeo(r=0.8, alpha=3.0, a=1.5, b=4.0), 20.0
    rng = np.random.default_rng(5)
    n = 400_000
    counts = rng.poisson(rng.gamma(params.r, 1 / params.alpha, n) * t)
    p = rng.beta(params.a, params.b, n)
    # Purchases made before stopping: BG/NBD at least one (no coin at the first purchase), MBG/NBD maybe none.
    lives = rng.geometric(p) - (1 if kind == "mbgnbd" else 0)
    simulated = float(np.minimum(counts, lives).mean())
    expected = float(expected_purchases_of(kind, params, t, [0], [0], [0])[0])
    assert expected == pytest.approx(simulated, rel=0.01)


def test_without_dropout_bgnbd_runs_to_the_edge_and_the_priors_answer():
    """Customers who never stop (the case of stores where most buy again and nobody seems to leave):
    maximum likelihood drives a to 0 for BG/NBD and MBG/NBD alike; the priors keep it identified."""
    purchases, as_of = simulate(1500, 0.5, 8.0, None)
    summary = clv_summary(purchases, as_of)
    fits = {kind: fit_count_model(kind, summary["frequency"], summary["recency"], summary["T"])
            for kind in ("bgnbd", "mbgnbd", "bgnbd_map")}
    assert fits["bgnbd"].params.a < 1e-4 and not fits["bgnbd"].identified
    assert not fits["mbgnbd"].identified
    assert fits["bgnbd_map"].identified
    # The purchase rate is still learnt: r and α within 15 % of the truth.
    assert fits["bgnbd_map"].params.r == pytest.approx(0.5, rel=0.15)
    assert fits["bgnbd_map"].params.alpha == pytest.approx(8.0, rel=0.15)
    plain = fit_clv(summary, 365)
    assert plain.predictions is None and "cannot be predicted" in plain.warnings[0]
    chosen = fit_chosen_clv(purchases, summary, as_of, 365)
    assert chosen.model == "bgnbd_map" and chosen.predictions is not None and not chosen.warnings
    holdout = chosen.metrics["holdout"]
    assert holdout["chosen"] == "bgnbd_map" and holdout["errors"]["bgnbd"] is None
    p = chosen.predictions
    assert p["predicted_clv_low"].null_count() == 0
    assert ((p["predicted_clv_low"] <= p["predicted_clv"] + 1e-9)
            & (p["predicted_clv"] <= p["predicted_clv_high"] + 1e-9)).all()
    assert (p["predicted_clv_high"] > p["predicted_clv_low"]).all()


def test_with_dropout_plain_bgnbd_is_chosen_and_recovers_the_truth():
    purchases, as_of = simulate(1500, 0.5, 8.0, (1.0, 3.0))
    summary = clv_summary(purchases, as_of)
    fit = fit_chosen_clv(purchases, summary, as_of, 365)
    # BG/NBD and BG/NBD with priors tie (within half a point of error): the plain model is kept.
    assert fit.model == "bgnbd"
    errors = fit.metrics["holdout"]["errors"]
    assert abs(errors["bgnbd"] - errors["bgnbd_map"]) < 0.005
    assert fit.bgnbd.a == pytest.approx(1.0, rel=0.25) and fit.bgnbd.r == pytest.approx(0.5, rel=0.25)


def test_holdout_groups_count_the_held_out_purchase_days_by_hand():
    """Ten customers over 200 days: a quarter (50 days) is held out, so calibration ends on day 150."""
    day = lambda n: START + dt.timedelta(days=n)  # noqa: E731
    rows = [
        # Customer, purchase days. c0–c5 never return in calibration; c6–c8 once; c9 three times.
        *[(f"c{i}", [i * 10]) for i in range(6)],
        ("c1", [160, 170, 170]),  # two held-out purchase days (two orders on day 170 are one)
        ("c2", [155]),
        ("c6", [5, 40]), ("c7", [10, 60, 190]), ("c8", [20, 100]),
        ("c9", [0, 30, 60, 90, 151]),
        ("late", [160]),  # first bought in the holdout: not a calibration customer
    ]
    purchases = pl.DataFrame([(c, day(d), 10.0) for c, days in rows for d in days],
                             schema=["customer_id", "day", "amount"], orient="row")
    as_of = day(200)
    assert holdout_days_for(START, as_of) == 50
    choice = choose_model(purchases, as_of)
    assert choice.calibration_end == day(150) and choice.holdout_days == 50
    groups = {g["group"]: (g["customers"], g["actual"]) for g in choice.groups}
    assert groups == {"0": (6, 3.0), "1": (3, 1.0), "3": (1, 1.0)}
    for kind, error in choice.errors.items():
        if error is not None:
            predicted = {g["group"]: g["predicted"][kind] for g in choice.groups}
            by_hand = sum(abs(predicted[g] - groups[g][1]) for g in groups) / 5.0
            assert error == pytest.approx(by_hand)


def test_a_small_store_gets_a_prediction_with_priors():
    purchases, as_of = simulate(40, 0.5, 8.0, (1.0, 3.0), seed=3)
    summary = clv_summary(purchases, as_of)
    # 40 customers: under the 50 that maximum likelihood needs.
    assert summary.height == 40 and summary.filter(pl.col("frequency") > 0).height >= 3
    assert fit_clv(summary, 365).predictions is None
    fit = fit_chosen_clv(purchases, summary, as_of, 365)
    assert fit.predictions is not None and fit.model == "bgnbd_map"
    width = fit.predictions["predicted_clv_high"] - fit.predictions["predicted_clv_low"]
    assert (width > 0).all()


def test_a_history_too_short_to_hold_out_chooses_nothing():
    purchases = pl.DataFrame({"customer_id": ["a", "a", "b"], "day": [START, START + dt.timedelta(days=20),
                                                                      START + dt.timedelta(days=3)],
                              "amount": [5.0, 6.0, 7.0]})
    assert holdout_days_for(START, START + dt.timedelta(days=40)) is None
    assert choose_model(purchases, START + dt.timedelta(days=40)) is None
