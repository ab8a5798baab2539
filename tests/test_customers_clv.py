"""Lifetime value models: the summary, BG/NBD and Gamma-Gamma on hand-worked figures, and the
published fits on the CDNOW 1/10 sample."""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pytest

from analytics.customers.clv import (
    BetaGeo,
    GammaGamma,
    bgnbd_log_likelihood,
    clv_summary,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_clv,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    p_alive,
)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WHEEL = "Lifetimes-0.11.3-py3-none-any.whl"


def test_summary_counts_purchase_days_and_weeks():
    purchases = pl.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "a"],
        "day": [dt.date(2026, 1, 1), dt.date(2026, 1, 8), dt.date(2026, 1, 8), dt.date(2026, 1, 22),
                dt.date(2026, 1, 15), dt.date(2026, 2, 5)],
        "amount": [10.0, 20.0, 10.0, 50.0, 7.0, 99.0],
    })
    summary = clv_summary(purchases, dt.date(2026, 1, 29)).rows(named=True)
    # a: days 1, 8 (20 + 10 = 30), 22 Jan; 5 Feb is after the as-of day. Repeat days: 2.
    # recency = 21 days / 7 = 3 weeks, T = 28 / 7 = 4 weeks, monetary = (30 + 50) / 2 = 40.
    assert summary[0] == {"customer_id": "a", "frequency": 2, "recency": 3.0, "T": 4.0, "monetary_value": 40.0}
    # b: one day only, 14 days before the as-of day: T = 2 weeks, no repeat spend.
    assert summary[1] == {"customer_id": "b", "frequency": 0, "recency": 0.0, "T": 2.0, "monetary_value": 0.0}


def test_bgnbd_likelihood_and_p_alive_by_hand():
    one = BetaGeo(r=1.0, alpha=1.0, a=1.0, b=1.0)
    ll = bgnbd_log_likelihood(one, [0, 1], [0.0, 1.0], [1.0, 2.0])
    # x = 0, T = 1: A1 = Γ(1)·1/Γ(1) = 1, A2 = B(1,1)/B(1,1) = 1, A3 = (1+1)^−1 = 1/2 → L = 1/2.
    # x = 1, t_x = 1, T = 2: A1 = Γ(2)/Γ(1) = 1, A2 = B(1,2)/B(1,1) = 1/2, A3 = (1+2)^−2 = 1/9,
    # A4 = 1/(1+1−1) · (1+1)^−2 = 1/4 → L = 1/2 · (1/9 + 1/4) = 13/72.
    assert ll == pytest.approx([math.log(0.5), math.log(13 / 72)], rel=1e-12)
    # P(alive) = 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) = 1 / (1 + (3/2)^2) = 4/13; x = 0 → 1.
    assert p_alive(one, [0, 1], [0.0, 1.0], [1.0, 2.0]) == pytest.approx([1.0, 4 / 13], rel=1e-12)


def test_expected_purchases_by_hand():
    params = BetaGeo(r=1.0, alpha=1.0, a=2.0, b=1.0)
    # x = 0, T = 0 over t = 1: (a+b−1)/(a−1) · [1 − (α/(α+t))^r · 2F1(1, 1; 2; 1/2)] with
    # 2F1(1, 1; 2; z) = −ln(1−z)/z = 2 ln 2 → 2 · (1 − 1/2 · 2 ln 2) = 2 − 2 ln 2 ≈ 0.6137.
    assert expected_purchases(params, 1.0, [0], [0.0], [0.0]) == pytest.approx([2 - 2 * math.log(2)], rel=1e-10)
    # More purchases, recent ones, predict more than none at all over the same age.
    many, none = expected_purchases(params, 10.0, [5, 0], [9.0, 0.0], [10.0, 10.0])
    assert many > none


def test_gamma_gamma_by_hand():
    params = GammaGamma(p=6.0, q=4.0, v=15.0)
    # E[M | x = 2, m̄ = 40] = p(γ + x m̄)/(px + q − 1) = 6 · (15 + 80) / (12 + 3) = 38; the mean p·γ/(q−1) = 30.
    assert expected_spend(params, [2], [40.0]) == pytest.approx([38.0])
    assert params.mean_spend == pytest.approx(30.0)
    # ln L(x = 1, m̄ = 1 | p = q = γ = 1) = lnΓ(2) − lnΓ(1) − lnΓ(1) + 0 + 0 + 0 − 2 ln 2 = −2 ln 2.
    assert gamma_gamma_log_likelihood(GammaGamma(1.0, 1.0, 1.0), [1], [1.0]) == pytest.approx([-2 * math.log(2)])


def test_too_few_repeat_customers_gives_a_warning_not_a_prediction():
    summary = pl.DataFrame({"customer_id": [f"c{i}" for i in range(60)], "frequency": [0] * 55 + [1] * 5,
                            "recency": [0.0] * 55 + [2.0] * 5, "T": [10.0] * 60, "monetary_value": [0.0] * 55 + [9.0] * 5})
    fit = fit_clv(summary, 365)
    assert fit.predictions is None and fit.bgnbd is None
    assert "60 customers of whom 5 bought again" in fit.warnings[0]


def test_fit_recovers_simulated_parameters():
    from bench.clv import synthetic_summary

    summary = synthetic_summary(20_000, seed=11)
    fit = fit_clv(summary, 364)
    assert fit.predictions is not None, fit.warnings
    # The simulation's truth: r = 0.25, α = 4, a = 0.8, b = 2.5; p = 6, q = 4, γ = 15.
    assert fit.bgnbd.r == pytest.approx(0.25, rel=0.1) and fit.bgnbd.a == pytest.approx(0.8, rel=0.25)
    assert fit.gamma_gamma.p == pytest.approx(6.0, rel=0.15)
    predictions = fit.predictions
    assert predictions["p_alive"].is_between(0, 1).all()
    assert (predictions["predicted_clv"] - predictions["expected_purchases"] * predictions["expected_spend"]).abs().max() < 1e-9
    assert fit.params()["time_unit"] == "week" and set(fit.params()["bgnbd"]) == {"r", "alpha", "a", "b"}


# -- CDNOW ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def cdnow_sample() -> pl.DataFrame:
    """The CDNOW 1/10 sample (2,357 customers) from the lifetimes wheel on PyPI, downloaded once into
    tests/artifacts/ (git-ignored). Columns of the file: master id, sample id, YYYYMMDD, CDs, dollars."""
    wheel = ARTIFACTS / WHEEL
    if not wheel.exists():
        ARTIFACTS.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(dir=ARTIFACTS) as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "lifetimes==0.11.3",
                            "-d", tmp], check=True, timeout=300)
            os.replace(Path(tmp) / WHEEL, wheel)
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("lifetimes/datasets/CDNOW_sample.txt").decode("ascii")
    rows = [line.split() for line in text.splitlines() if line.strip()]
    return pl.DataFrame({
        "customer_id": [r[1] for r in rows],
        "day": [dt.datetime.strptime(r[2], "%Y%m%d").date() for r in rows],
        "amount": [float(r[4]) for r in rows],
    })


def test_cdnow_reproduces_the_published_estimates(cdnow_sample):
    summary = clv_summary(cdnow_sample, dt.date(1997, 9, 30))
    assert summary.height == 2357
    repeat = summary.filter(pl.col("frequency") > 0)
    assert repeat.height == 946
    bgnbd, _, converged = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    assert converged
    # Fader, Hardie & Lee (2005): r = 0.243, α = 4.414, a = 0.793, b = 2.426.
    assert [round(v, 3) for v in (bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b)] == [0.243, 4.414, 0.793, 2.426]
    gg, _, converged = fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])
    assert converged
    # Fader & Hardie (2013): p = 6.25, q = 3.74, γ = 15.44.
    assert [round(v, 2) for v in (gg.p, gg.q, gg.v)] == [6.25, 3.74, 15.44]
    # The 39 weeks after calibration (1 Oct 1997 – 30 Jun 1998): the expected repeat purchase days of
    # the 2,357 customers against those they made (1,882); the model forecast lands within 15 %.
    fit = fit_clv(summary, 273)
    assert fit.predictions is not None and not fit.warnings
    later = cdnow_sample.filter(pl.col("day").is_between(dt.date(1997, 10, 1), dt.date(1998, 6, 30)))
    actual = later.unique(["customer_id", "day"]).height
    assert actual == 1882
    assert fit.predictions["expected_purchases"].sum() == pytest.approx(actual, rel=0.15)
