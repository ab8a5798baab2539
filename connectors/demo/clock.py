"""The demo store's calendar: seasonality, its timezone and a seasonal clock.

Demand follows one intensity per store-local hour: a growth trend, a weekly
pattern, a yearly one with a Black Friday to Christmas peak and a July summer
sale, a little daily noise, and an hour-of-day profile. :class:`StoreClock`
turns that intensity into an *operational time*: one operational day is one
average day of trade, so a process that is uniform (Poisson) in operational
time is seasonal in real time. Customers' purchases are drawn in operational
time and mapped to UTC instants with :meth:`StoreClock.to_utc`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

TIMEZONE = "America/New_York"
US_PER_SECOND = 1_000_000
US_PER_HOUR = 3600 * US_PER_SECOND
US_PER_DAY = 24 * US_PER_HOUR
EPOCH = dt.date(1970, 1, 1)

# Orders by local hour of day (relative): quiet nights, a lunch bump, an evening peak.
HOUR_PROFILE = np.array(
    [0.30, 0.18, 0.11, 0.08, 0.07, 0.09, 0.18, 0.35, 0.55, 0.72, 0.85, 0.95,
     1.05, 1.02, 0.95, 0.92, 0.93, 0.98, 1.08, 1.22, 1.30, 1.22, 0.95, 0.58]
)
# Retail store opening hours (10:00-20:00) for point-of-sale orders.
STORE_HOUR_PROFILE = np.array([0.0] * 10 + [0.55, 0.8, 1.1, 1.15, 1.0, 0.95, 1.0, 1.15, 1.25, 0.9] + [0.0] * 4)
# Monday first.
WEEKDAY_PROFILE = np.array([1.06, 1.03, 1.00, 0.98, 0.94, 0.90, 1.09])
# Month multipliers placed mid-month and interpolated (January first).
MONTH_PROFILE = np.array([0.84, 0.86, 0.95, 0.98, 1.00, 0.97, 1.00, 1.02, 0.98, 1.04, 1.08, 1.10])
YEARLY_GROWTH = 1.35


def black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November."""
    first = dt.date(year, 11, 1)
    thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thursday + dt.timedelta(days=1)


def bfcm_window(year: int) -> tuple[dt.date, dt.date]:
    """From a week before Black Friday to the Tuesday after Cyber Monday."""
    bf = black_friday(year)
    return bf - dt.timedelta(days=7), bf + dt.timedelta(days=4)


def summer_sale_window(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 7, 1), dt.date(year, 7, 14)


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def in_windows(days: np.ndarray, window) -> np.ndarray:
    """Whether each day number falls in ``window(year)`` for its own year."""
    years = (days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)
    out = np.zeros(days.shape, dtype=bool)
    for year in np.unique(years):
        lo, hi = window(int(year))
        out |= (years == year) & (days >= day_number(lo)) & (days <= day_number(hi))
    return out


def peak_multiplier(days: np.ndarray) -> np.ndarray:
    """Black Friday to Christmas, and the July summer sale, on top of the months."""
    mult = np.ones(days.shape)
    years = days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    for year in np.unique(years):
        bf = day_number(black_friday(int(year)))
        xmas = day_number(dt.date(int(year), 12, 25))
        rel = days - bf
        sel = years == year
        shape = {-7: 1.3, -6: 1.3, -5: 1.35, -4: 1.35, -3: 1.4, -2: 1.45, -1: 1.6,
                 0: 3.4, 1: 2.6, 2: 2.4, 3: 3.0, 4: 1.8}
        for offset, value in shape.items():
            mult[sel & (rel == offset)] = value
        after = sel & (rel > 4) & (days < xmas - 4)
        mult[after] = 1.55 - 0.25 * (days[after] - (bf + 5)) / max(1, (xmas - 4) - (bf + 5))
        mult[sel & (days >= xmas - 4) & (days < xmas)] = 0.95
        mult[sel & (days == xmas)] = 0.45
        summer = in_windows(days, summer_sale_window) & sel
        mult[summer] = 1.22
    return mult


def day_weights(days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Relative demand of each local day (day numbers since the epoch)."""
    d64 = days.astype("datetime64[D]")
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    day_of_year = (d64 - d64.astype("datetime64[Y]")).astype(np.int64)
    mid_months = np.arange(12) * 30.44 + 15.2
    month = np.interp(day_of_year, np.concatenate([[mid_months[-1] - 365.25], mid_months, [mid_months[0] + 365.25]]),
                      np.concatenate([[MONTH_PROFILE[-1]], MONTH_PROFILE, [MONTH_PROFILE[0]]]))
    trend = YEARLY_GROWTH ** ((days - days[0]) / 365.25)
    noise = np.exp(rng.normal(0.0, 0.07, days.shape))
    return trend * WEEKDAY_PROFILE[weekday] * month * peak_multiplier(days) * noise


@dataclass
class StoreClock:
    """Local days, UTC instants and the operational time of the store's history.

    ``days[i]`` is the i-th local day (a day number); ``day_start_us[i]`` its
    local midnight in UTC microseconds (one more entry closes the last day).
    History runs from the first midnight to ``cutoff_us`` (exclusive).
    """

    timezone: str
    days: np.ndarray
    day_start_us: np.ndarray
    cutoff_us: int
    weights: np.ndarray
    knot_us: np.ndarray
    knot_cum: np.ndarray

    @classmethod
    def build(cls, end: dt.date, n_days: int, cutoff: dt.datetime | None, rng: np.random.Generator,
              timezone: str = TIMEZONE) -> "StoreClock":
        zone = ZoneInfo(timezone)
        first = end - dt.timedelta(days=n_days - 1)
        local_days = [first + dt.timedelta(days=i) for i in range(n_days + 1)]
        starts = np.array(
            [int(dt.datetime(d.year, d.month, d.day, tzinfo=zone).timestamp()) * US_PER_SECOND for d in local_days],
            dtype=np.int64,
        )
        cutoff_us = int(starts[-1]) if cutoff is None else min(int(starts[-1]), int(cutoff.timestamp() * US_PER_SECOND))
        if cutoff_us <= starts[0]:
            raise ValueError("the history must end after its first day starts")
        days = np.array([day_number(d) for d in local_days[:-1]], dtype=np.int64)
        weights = day_weights(days, rng)
        knots = np.arange(starts[0], cutoff_us, US_PER_HOUR, dtype=np.int64)
        local = pl.Series(knots).cast(pl.Datetime("us", "UTC")).dt.convert_time_zone(timezone)
        hours = local.dt.hour().to_numpy().astype(np.int64)
        knot_day = np.searchsorted(starts, knots, side="right") - 1
        seg = weights[knot_day] * HOUR_PROFILE[hours]
        ends = np.minimum(knots + US_PER_HOUR, cutoff_us)
        seg = seg * (ends - knots) / US_PER_HOUR
        # One operational day = one average day of trade.
        full_days = (cutoff_us - starts[0]) / US_PER_DAY
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        cum *= full_days / cum[-1]
        knot_us = np.concatenate([knots, [cutoff_us]])
        return cls(timezone, days, starts, cutoff_us, weights, knot_us, cum)

    @property
    def n_days(self) -> int:
        return len(self.days)

    @property
    def op_total(self) -> float:
        return float(self.knot_cum[-1])

    def to_utc(self, op_time: np.ndarray) -> np.ndarray:
        """Operational time to UTC microseconds, truncated to whole seconds."""
        us = np.interp(op_time, self.knot_cum, self.knot_us.astype(np.float64))
        return (np.floor(us / US_PER_SECOND).astype(np.int64)) * US_PER_SECOND

    def to_op(self, us: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(us, dtype=np.float64), self.knot_us.astype(np.float64), self.knot_cum)

    def day_index(self, us: np.ndarray) -> np.ndarray:
        """Index (0-based) of the local day each UTC instant falls in."""
        return np.searchsorted(self.day_start_us, us, side="right") - 1

    def local_time_us(self, day_index: np.ndarray, local_hour: np.ndarray) -> np.ndarray:
        """UTC microseconds of a local clock time (in hours, 3 ≤ hour < 24) on given days.

        Noon is never in a daylight-saving jump, so the day's noon offset holds.
        """
        # A day with a DST jump (at 2:00) is 23 or 25 hours long; its noon moves by the difference.
        length = self.day_start_us[day_index + 1] - self.day_start_us[day_index]
        noon = self.day_start_us[day_index] + 12 * US_PER_HOUR + (length - US_PER_DAY)
        return noon + ((local_hour - 12.0) * US_PER_HOUR).astype(np.int64)

    def hours_to_cutoff(self, us: np.ndarray) -> np.ndarray:
        return (self.cutoff_us - np.asarray(us, dtype=np.int64)) / US_PER_HOUR


def local_hours_from_profile(rng: np.random.Generator, n: int, profile: np.ndarray) -> np.ndarray:
    """Random local clock times (in hours) drawn from an hourly profile."""
    p = profile / profile.sum()
    hours = rng.choice(24, size=n, p=p)
    return hours + rng.random(n)
