"""The yearly season and the peak days of each series, as multiplicative factors.

The weekly models of :mod:`analytics.inventory.forecast` see a few weeks of
history; this module tells them what last year looked like. For a cutoff day
``c`` (a backtest origin, or ``as_of``) and every series, it gives a *factor*
for each day of the history up to ``c`` and each of the days forecast after
it: the models are fitted to demand ÷ factor, and their forecasts multiplied
by the factors of the days ahead. A factor of 1 everywhere (no yearly history)
leaves the weekly models as they were.

1. **Levels.** Demand is summed per day at each level: the store, each
   product type, each product and each variant that sold at least
   :data:`VARIANT_UNITS` units in its history (:data:`LEVELS`; the levels a
   caller has no grouping for are skipped; a thinner variant takes its
   groups' season). Only the days up to ``c`` count.
2. **Ratios.** On each level's daily series: the *growth* g is the mean of
   its last days (up to half a year) ÷ the mean of the same days a year
   before (so the season cancels); the *baseline* is the mean over the
   :data:`BASELINE_DAYS` days centred on the day (fewer at the ends of the
   history) of demand with that growth taken out, the growth put back at the
   day; the *weekday index* the mean of the weekday ÷ the overall mean; a
   day's ratio is demand ÷ (baseline × weekday index): how far the day stood
   above its year, weekday and growth aside.
3. **Slots.** Days of different years are matched by *slot*: a day from a
   week before Black Friday (the day after the fourth Thursday of November,
   computed per year) to a week after it by its distance to Black Friday
   (Cyber Monday is Black Friday + 3 in every year); 18 December to
   1 January by its date (Christmas); the store's own recurring peak days by
   their date (step 4); every other day by its date, its ratio smoothed over
   the :data:`SMOOTH_DAYS` days around it (the peak days left out of that
   mean), so a slot's factor is its weeks' level, not one day's noise.
   A leap day counts as 28 February.
4. **The store's own peaks**: a date outside those two windows on which the
   store's ratio stood at least :data:`PEAK_MIN` × its smoothed ratio in
   every year of its history (two at least), and :data:`PEAK_MEAN` × on
   average: a yearly sale, Valentine's day, a launch anniversary.
5. **A slot's ratio** at one level is the mean over the years of that slot's
   ratios, from the days whose baseline saw a whole year when there are
   such days, else from all; its *weight* is the units the baseline expects
   on those days (× :data:`SMOOTH_DAYS` for a smoothed slot).
6. **Top down** (empirical Bayes). Each slot's factor at a level is its
   parent's factor p (the store's parent: 1) moved towards its own ratio r by
   λ = τ² ÷ (τ² + p ÷ weight): p ÷ weight is the Poisson noise of r, and τ²,
   the spread of the level's true seasons around their parents', is
   estimated over all its slots (peak slots and the others apart) as the
   weighted mean of (r − p)² − p ÷ weight, at least 0. A level whose ratios
   vary no more than their noise (τ² = 0) keeps its parent's factors; a
   store without a season keeps factors of 1; a variant with little history
   (a new product: none) takes its product's or product type's season, and
   the store's when those are thin too.
7. **A level counts** only when its history spans at least :data:`MIN_DAYS`
   days (13 months), and a day ahead gets a slot factor only from slots seen
   before (else its parent's, else 1).
8. **Growth ahead.** The days after ``c`` are also multiplied by
   g^(days after c ÷ 364), g the growth of the nearest group level (the
   product, else its type, else the store): the level a weekly model learns
   from the last weeks keeps growing over the horizon. A growth that would
   move the last day ahead by under :data:`MIN_GROWTH` is left out.

With more than :data:`VARIANT_SAMPLE` thick variants, the variant level is
worked out only when that many of them (every n-th by id) show a season of
their own (τ² > 0 among them): the level costs most, and most stores' variants
follow their groups.
"""

from __future__ import annotations

import datetime as dt
from typing import Sequence

import polars as pl

LEVELS = ("store", "product_type", "product_id", "unique_id")
BASELINE_DAYS = 365
SMOOTH_DAYS = 21
MIN_DAYS = 395
YEAR = 364
PEAK_MIN = 1.4
PEAK_MEAN = 1.6
BFCM_DAYS = 7
CHRISTMAS = (1218, 1231)
NEW_YEAR = 101
FACTOR_FLOOR = 0.05
VARIANT_UNITS = 1000
VARIANT_SAMPLE = 300
MIN_GROWTH = 0.005


def black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November."""
    november = dt.date(year, 11, 1)
    return november + dt.timedelta(days=(3 - november.weekday()) % 7 + 22)


def _black_fridays(first: dt.date, last: dt.date) -> pl.DataFrame:
    years = range(first.year - 1, last.year + 2)
    return pl.DataFrame({"_year": list(years), "_bf": [black_friday(y) for y in years]},
                        schema={"_year": pl.Int32, "_bf": pl.Date})


def with_slots(frame: pl.DataFrame, peaks: Sequence[int] = ()) -> pl.DataFrame:
    """``frame`` (with ``ds``) plus ``slot`` (Int32) and ``event`` (a peak-day slot, matched unsmoothed).

    Slots: 5000 + days from Black Friday (4993–5007), 2000 + MMDD for Christmas and the store's own peaks, and
    MMDD for the other days (a leap day is 228)."""
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, pl.Int32).alias("slot"), pl.lit(False).alias("event"))
    first, last = frame["ds"].min(), frame["ds"].max()
    mmdd = (pl.col("ds").dt.month().cast(pl.Int32) * 100 + pl.col("ds").dt.day().cast(pl.Int32))
    mmdd = pl.when(mmdd == 229).then(pl.lit(228, pl.Int32)).otherwise(mmdd)
    out = (frame.with_columns(pl.col("ds").dt.year().cast(pl.Int32).alias("_year"))
           .join(_black_fridays(first, last), on="_year", how="left")
           .with_columns((pl.col("ds") - pl.col("_bf")).dt.total_days().cast(pl.Int32).alias("_off"),
                         mmdd.alias("_mmdd")))
    christmas = pl.col("_mmdd").is_between(*CHRISTMAS) | (pl.col("_mmdd") == NEW_YEAR)
    own = pl.col("_mmdd").is_in(list(peaks)) if peaks else pl.lit(False)
    bfcm = pl.col("_off").abs() <= BFCM_DAYS
    return out.with_columns(
        pl.when(bfcm).then(5000 + pl.col("_off"))
        .when(christmas | own).then(2000 + pl.col("_mmdd"))
        .otherwise(pl.col("_mmdd")).cast(pl.Int32).alias("slot"),
        (bfcm | christmas | own).alias("event"),
    ).drop("_year", "_bf", "_off", "_mmdd")


def _ratios(daily: pl.DataFrame, key: str, peaks: Sequence[int]) -> pl.DataFrame:
    """Per day of each ``key`` series (``key, ds, y``, one row a day, sorted): ``slot, event, ratio, weight,
    full`` (see the module docstring, steps 2–5)."""
    half = BASELINE_DAYS // 2
    framed = with_slots(daily, peaks).with_columns(
        pl.int_range(pl.len()).over(key).alias("_i"), pl.len().over(key).alias("_n"),
        pl.col("ds").dt.weekday().alias("_wd"))
    # Growth: the last days (up to half a year) against the same days a year before, so the season cancels.
    overlap = pl.min_horizontal(pl.lit(half), pl.col("_n") - YEAR)
    late = pl.col("_i") >= pl.col("_n") - overlap
    early = (pl.col("_i") >= pl.col("_n") - overlap - YEAR) & (pl.col("_i") < pl.col("_n") - YEAR)
    growth = (pl.col("y").filter(late).mean() / pl.col("y").filter(early).mean()).over(key)
    framed = framed.with_columns(
        (growth.fill_nan(1.0).fill_null(1.0).clip(0.25, 4.0).log() / YEAR).alias("_b"))
    trend = (pl.col("_b") * pl.col("_i")).exp()
    framed = framed.with_columns(
        ((pl.col("y") / trend).rolling_mean(BASELINE_DAYS, min_samples=1, center=True).over(key) * trend)
        .alias("_base"),
    ).with_columns(
        (pl.col("y").mean().over(key, "_wd") / pl.col("y").mean().over(key)).alias("_week"),
        ((pl.col("_i") >= half) & (pl.col("_i") < pl.col("_n") - half)).alias("full"),
    )
    expected = pl.col("_base") * pl.col("_week")
    framed = framed.with_columns(
        pl.when(expected > 0).then(pl.col("y") / expected).otherwise(None).alias("_raw"))
    smooth = (pl.when(pl.col("event")).then(None).otherwise(pl.col("_raw"))
              .rolling_mean(SMOOTH_DAYS, min_samples=3, center=True).over(key))
    framed = framed.with_columns(smooth.alias("_smooth"))
    return framed.select(
        key, "ds", "slot", "event", "full", "_raw", "_smooth", pl.col("_b").alias("growth"),
        pl.when(pl.col("event")).then(pl.col("_raw")).otherwise(pl.col("_smooth")).alias("ratio"),
        (pl.col("_base") * pl.when(pl.col("event")).then(1).otherwise(SMOOTH_DAYS)).alias("weight"),
    )


def own_peaks(store_daily: pl.DataFrame) -> list[int]:
    """The store's recurring peak dates (MMDD) in its daily demand (``ds, y``; step 4 of the module docstring)."""
    if store_daily.height < MIN_DAYS:
        return []
    ratios = _ratios(store_daily.with_columns(pl.lit("store").alias("store")), "store", ())
    found = (ratios.filter(~pl.col("event") & (pl.col("_smooth") > 0) & pl.col("_raw").is_not_null())
             .with_columns((pl.col("_raw") / pl.col("_smooth")).alias("_excess"))
             .group_by("slot").agg(pl.len().alias("years"), pl.col("_excess").min().alias("low"),
                                   pl.col("_excess").mean().alias("mean"))
             .filter((pl.col("years") >= 2) & (pl.col("low") >= PEAK_MIN) & (pl.col("mean") >= PEAK_MEAN)))
    return sorted(found["slot"].to_list())


def _slot_ratios(ratios: pl.DataFrame, key: str) -> pl.DataFrame:
    """``key, slot, event, ratio, weight``: the mean over the years (whole-year baselines first; step 5)."""
    full = pl.col("full")
    return (ratios.filter(pl.col("ratio").is_not_null())
            .group_by(key, "slot").agg(
                pl.col("event").first(),
                pl.coalesce(pl.col("ratio").filter(full).mean(), pl.col("ratio").mean()).alias("ratio"),
                pl.when(full.any()).then(pl.col("weight").filter(full).sum()).otherwise(pl.col("weight").sum())
                .alias("weight")))


def _shrunk(slots: pl.DataFrame, key: str) -> pl.DataFrame | None:
    """``key, slot, factor``: each slot's ratio shrunk towards ``parent`` (step 6), or ``None`` when the level
    shows no season of its own beyond its parent's (τ² = 0 for both kinds of slot)."""
    noise = pl.col("parent") / pl.col("weight")
    spread = (slots.filter(pl.col("weight") > 0).group_by("event").agg(
        ((pl.col("weight") * ((pl.col("ratio") - pl.col("parent")) ** 2 - noise)).sum()
         / pl.col("weight").sum()).clip(lower_bound=0.0).alias("tau2")))
    if spread.height == 0 or spread["tau2"].max() <= 0:
        return None
    return slots.join(spread, on="event", how="left").with_columns(
        (pl.col("tau2") / (pl.col("tau2") + noise)).fill_nan(0.0).fill_null(0.0).alias("_lambda"),
    ).select(key, "slot", (pl.col("parent") + pl.col("_lambda") * (pl.col("ratio") - pl.col("parent")))
             .alias("factor"))


def yearly_factors(series: pl.DataFrame, cutoff: dt.date, ahead: int, groups: pl.DataFrame | None = None,
                   through: dt.date | None = None) -> pl.DataFrame:
    """``unique_id, ds, factor`` for every day of ``series`` (``unique_id, ds, y``) up to ``cutoff`` and the
    ``ahead`` days after it (see the module docstring).

    The factors are estimated from the days up to ``cutoff``; with ``through`` (a backtest window of an
    earlier year), also from the days after the window up to ``through``, the window's own days left out.
    ``groups``: ``unique_id`` with ``product_id`` and/or ``product_type`` (a variant without one is its own
    group). All factors are 1 when the store's history is shorter than :data:`MIN_DAYS`."""
    window_end = cutoff + dt.timedelta(days=ahead)
    hidden = pl.col("ds").is_between(cutoff + dt.timedelta(days=1), window_end)
    end = through if through is not None and through > window_end else cutoff
    history = series.filter(pl.col("ds") <= end).select(
        "unique_id", "ds", pl.when(hidden).then(None).otherwise(pl.col("y")).alias("y"))
    ids = series.filter(pl.col("ds") <= cutoff).select("unique_id").unique()
    days_ahead = pl.DataFrame({"ds": pl.date_range(cutoff + dt.timedelta(days=1), window_end, interval="1d",
                                                   eager=True)})
    needed = pl.concat([series.filter(pl.col("ds") <= cutoff).select("unique_id", "ds"),
                        ids.join(days_ahead, how="cross")])
    store_daily = (history.group_by("ds").agg(pl.col("y").sum())
                   .with_columns(pl.when(hidden).then(None).otherwise(pl.col("y")).alias("y")).sort("ds"))
    flat = needed.with_columns(pl.lit(1.0).alias("factor"))
    if store_daily.height == 0 or (end - store_daily["ds"].min()).days + 1 < MIN_DAYS:
        return flat
    keys = _group_keys(ids, groups)
    levels = [level for level in LEVELS if level in keys.columns]
    peaks = own_peaks(store_daily)
    framed = history.join(keys, on="unique_id", how="inner")
    tables: list[tuple[str, pl.DataFrame]] = []
    trends: list[tuple[str, pl.DataFrame]] = []
    for level in levels:
        if level == "unique_id":
            totals = framed.group_by(level).agg(pl.col("y").sum())
            thick = totals.filter(pl.col("y") >= VARIANT_UNITS)[level].sort()
            if thick.len() > VARIANT_SAMPLE and not _has_season(framed, thick, level, end, peaks, keys, tables):
                continue
            daily = framed.filter(pl.col(level).is_in(thick.implode())).select(level, "ds", "y")
        else:
            daily = framed.group_by(level, "ds").agg(pl.col("y").sum())
        daily = daily.with_columns(pl.when(hidden).then(None).otherwise(pl.col("y")).alias("y")).sort(level, "ds")
        span = daily.group_by(level).agg(pl.col("ds").min().alias("_first"))
        long_enough = span.filter((pl.lit(end) - pl.col("_first")).dt.total_days() + 1 >= MIN_DAYS)[level]
        daily = daily.filter(pl.col(level).is_in(long_enough.implode()))
        if daily.height == 0:
            continue
        ratios = _ratios(daily, level, peaks)
        if level != "unique_id":
            trends.append((level, ratios.group_by(level).agg(pl.col("growth").first())))
        slots = _with_parent(_slot_ratios(ratios, level), level, keys, tables)
        table = _shrunk(slots, level)
        if table is not None:
            tables.append((level, table))
    # Growth that moves the days ahead by under half a per cent is left out (step 8).
    trends = [(level, t.filter(pl.col("growth").abs() * ahead >= MIN_GROWTH)) for level, t in trends]
    trends = [(level, t) for level, t in trends if t.height]
    if not tables and not trends:
        return flat
    needed = with_slots(needed, peaks).join(keys, on="unique_id", how="left")
    factor, growth = pl.lit(1.0), pl.lit(0.0)
    for i, (level, table) in enumerate(tables):
        needed = needed.join(table.rename({"factor": f"_f{i}"}), on=[level, "slot"], how="left")
        factor = pl.coalesce(pl.col(f"_f{i}"), factor)
    for i, (level, table) in enumerate(trends):
        needed = needed.join(table.rename({"growth": f"_g{i}"}), on=level, how="left")
        growth = pl.coalesce(pl.col(f"_g{i}"), growth)
    # The trend too (step 8): the models then see a level without growth, and the days ahead get it back.
    trend = (growth * (pl.col("ds") - pl.lit(cutoff)).dt.total_days().clip(lower_bound=0)).exp()
    return needed.select("unique_id", "ds", (factor.clip(lower_bound=FACTOR_FLOOR) * trend).alias("factor"))


def _has_season(framed: pl.DataFrame, thick: pl.Series, level: str, end: dt.date, peaks: Sequence[int],
                keys: pl.DataFrame, tables: list[tuple[str, pl.DataFrame]]) -> bool:
    """Whether :data:`VARIANT_SAMPLE` of the thick variants (every n-th by id) show a season of their own
    beyond their groups' (τ² > 0): the whole level is worked out only then."""
    sample = thick.gather_every(max(1, thick.len() // VARIANT_SAMPLE))
    daily = framed.filter(pl.col(level).is_in(sample.implode())).select(level, "ds", "y").sort(level, "ds")
    first = daily.group_by(level).agg(pl.col("ds").min().alias("_first"))
    enough = first.filter((pl.lit(end) - pl.col("_first")).dt.total_days() + 1 >= MIN_DAYS)[level]
    daily = daily.filter(pl.col(level).is_in(enough.implode()))
    if daily.height == 0:
        return False
    slots = _with_parent(_slot_ratios(_ratios(daily, level, peaks), level), level, keys, tables)
    return _shrunk(slots, level) is not None


def _with_parent(slots: pl.DataFrame, level: str, keys: pl.DataFrame,
                 tables: list[tuple[str, pl.DataFrame]]) -> pl.DataFrame:
    """``slots`` with ``parent``: the factor of the nearest level above with one for that slot (else 1)."""
    if not tables:
        return slots.with_columns(pl.lit(1.0).alias("parent"))
    above = [name for name, _ in tables]
    mapping = keys.select(level, *[a for a in above if a != level]).unique(level)
    framed = slots.join(mapping, on=level, how="left")
    parent = pl.lit(1.0)
    for i, (name, table) in enumerate(tables):
        framed = framed.join(table.rename({"factor": f"_p{i}"}), on=[name, "slot"], how="left")
        parent = pl.coalesce(pl.col(f"_p{i}"), parent)
    return framed.select(*slots.columns, parent.alias("parent"))


def _group_keys(ids: pl.DataFrame, groups: pl.DataFrame | None) -> pl.DataFrame:
    """``unique_id, store`` and the group columns of ``groups`` (a missing group: the variant's own id)."""
    keys = ids.with_columns(pl.lit("store").alias("store"))
    if groups is None or groups.height == 0:
        return keys
    wanted = [c for c in ("product_type", "product_id") if c in groups.columns]
    keys = keys.join(groups.select("unique_id", *wanted).unique("unique_id"), on="unique_id", how="left")
    return keys.with_columns([pl.col(c).cast(pl.String).fill_null(pl.col("unique_id")) for c in wanted])
