"""Date ranges and buckets for the metric layer.

Every range is a pair of inclusive store-local dates ``(start, end)``. Buckets
are labelled by their first day: the day itself, the Monday of the ISO week,
or the 1st of the month.
"""

from __future__ import annotations

import datetime as dt

GRAINS = ("day", "week", "month")

# Shifting by 52 weeks keeps every date on the same weekday.
LAST_YEAR_SHIFT = dt.timedelta(days=364)


def check_range(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """``(start, end)`` as plain dates, or ``ValueError`` when they are not a range."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.date):
            raise ValueError(f"{name} must be a date, not {type(value).__name__}")
    start = start.date() if isinstance(start, dt.datetime) else start
    end = end.date() if isinstance(end, dt.datetime) else end
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    return start, end


def range_days(start: dt.date, end: dt.date) -> int:
    """Number of days in the inclusive range."""
    start, end = check_range(start, end)
    return (end - start).days + 1


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The range of the same length that ends the day before ``start``.

    1–30 Nov gives 2–31 Oct (30 days); a single day gives the day before.
    """
    start, end = check_range(start, end)
    length = end - start
    prev_end = start - dt.timedelta(days=1)
    return prev_end - length, prev_end


def same_period_last_year(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The same range a year earlier, aligned by weekday (shifted by 364 days).

    Monday 2 Nov 2026 is compared with Monday 3 Nov 2025, so weekly rhythms
    (weekends, a Friday promotion) line up.
    """
    start, end = check_range(start, end)
    return start - LAST_YEAR_SHIFT, end - LAST_YEAR_SHIFT


def check_grain(grain: str) -> str:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    return grain


def bucket_start(day: dt.date, grain: str) -> dt.date:
    """The label of the bucket holding ``day``: the day, its ISO week's Monday, or its month's 1st."""
    grain = check_grain(grain)
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def next_bucket(label: dt.date, grain: str) -> dt.date:
    """The label of the bucket after the one labelled ``label``."""
    grain = check_grain(grain)
    if grain == "day":
        return label + dt.timedelta(days=1)
    if grain == "week":
        return label + dt.timedelta(days=7)
    return (label.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def bucket_starts(start: dt.date, end: dt.date, grain: str) -> list[dt.date]:
    """Labels of every bucket that overlaps the inclusive range, in order.

    The first and last buckets may be partial: a range from Wednesday 4 Nov
    has its first weekly bucket labelled Monday 2 Nov but covering 4–8 Nov.
    """
    start, end = check_range(start, end)
    labels = []
    label = bucket_start(start, grain)
    while label <= end:
        labels.append(label)
        label = next_bucket(label, grain)
    return labels


def range_in_words(start: dt.date, end: dt.date) -> str:
    """``25 Nov 2026``, ``1–30 Nov 2026``, ``28 Oct – 3 Nov 2026``, ``28 Dec 2025 – 3 Jan 2026``."""
    if start == end:
        return f"{start.day} {start:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"
