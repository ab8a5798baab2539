"""Time the lifetime value fits on a synthetic population drawn from the models themselves.

    python -m bench.clv [--customers 100000] [--seed 3]

Customers follow BG/NBD with r = 0.25, α = 4, a = 0.8, b = 2.5 over 52 weeks of acquisition
and a 39-week calibration (purchase days on a daily grid, as the summary counts them), and
Gamma-Gamma spend with p = 6, q = 4, γ = 15. One JSON line: seconds to fit BG/NBD, to fit
Gamma-Gamma, to predict P(alive), expected purchases and CLV for everyone, to fit MBG/NBD and
BG/NBD with priors, and to predict with the 90 % range of each value, with the
fitted parameters (which should be near the true ones). Target: the BG/NBD fit of 100,000
customers in ≤ 3 s on a 2-core machine. Figures to read, never assertions.
"""

from __future__ import annotations

import argparse

import numpy as np
import polars as pl

from analytics.customers.clv import fit_bgnbd, fit_clv, fit_gamma_gamma
from analytics.customers.clv_models import fit_count_model
from bench.common import emit, timer

TRUE = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5, "p": 6.0, "q": 4.0, "v": 15.0}


def synthetic_summary(customers: int, seed: int) -> pl.DataFrame:
    """The RFM summary of ``customers`` drawn from BG/NBD and Gamma-Gamma (weeks, whole days)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], customers)
    drop = rng.beta(TRUE["a"], TRUE["b"], customers)
    big_t = rng.integers(7, 52 * 7, customers) / 7.0
    frequency = np.zeros(customers, dtype=np.int64)
    recency = np.zeros(customers)
    clock = np.zeros(customers)
    alive = np.ones(customers, dtype=bool)
    while alive.any():
        gap = rng.exponential(1 / np.maximum(lam, 1e-12))
        clock = np.where(alive, clock + gap, clock)
        bought = alive & (clock <= big_t)
        frequency += bought
        recency = np.where(bought, np.floor(clock * 7) / 7, recency)
        alive = bought & (rng.random(customers) >= drop)
    nu = rng.gamma(TRUE["q"], 1 / TRUE["v"], customers)
    mean_spend = np.where(frequency > 0, rng.gamma(TRUE["p"] * np.maximum(frequency, 1), 1 / nu)
                          / np.maximum(frequency, 1), 0.0)
    return pl.DataFrame({"customer_id": [f"c{i}" for i in range(customers)], "frequency": frequency,
                         "recency": np.minimum(recency, big_t), "T": big_t, "monetary_value": mean_spend})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.clv")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    summary = synthetic_summary(args.customers, args.seed)
    repeat = summary.filter(pl.col("frequency") > 0)
    with timer() as bg_time:
        bgnbd, _, _ = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    with timer() as gg_time:
        gg, _, _ = fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])
    with timer() as all_time:
        fit = fit_clv(summary, 365)
    other_fits = {}
    for kind in ("mbgnbd", "bgnbd_map"):
        with timer() as kind_time:
            fit_count_model(kind, summary["frequency"], summary["recency"], summary["T"])
        other_fits[f"{kind}_fit_s"] = kind_time["seconds"]
    with timer() as range_time:
        ranged = fit_clv(summary, 365, with_range=True)
    emit(bench="clv", customers=args.customers, repeat_customers=repeat.height,
         bgnbd_fit_s=bg_time["seconds"], gamma_gamma_fit_s=gg_time["seconds"],
         fit_and_predict_s=all_time["seconds"], predicted=fit.predictions is not None, **other_fits,
         fit_and_predict_with_range_s=range_time["seconds"],
         range_computed=ranged.predictions is not None and "predicted_clv_low" in ranged.predictions.columns,
         bgnbd={k: round(v, 4) for k, v in bgnbd.as_dict().items()},
         gamma_gamma={k: round(v, 4) for k, v in gg.as_dict().items()}, true=TRUE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
