"""The goals an owner sets per store, saved in ``app_settings`` like the other per-store choices.

A baseline period (what "before" means), the last day of the goal period (it
starts the day after the baseline ends), and a target per success measure: a
relative change of the measure over the goal period against the baseline
(+25 % revenue, +15 % conversion rate, +30 % repeat-purchase rate, −40 %
stockout days by default). Until an owner picks dates, the baseline is the 12
weeks before the last 12 weeks and the goal period those last 12 weeks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields, replace

from data.app_settings import get_choices, set_choice
from data.warehouse import Warehouse

__all__ = ["PREFIX", "MEASURES", "GoalChoices", "default_goals", "load_goals", "save_goals"]

PREFIX = "goals."
DEFAULT_WEEKS = 12
# measure → (label, default target, a fall is the aim)
MEASURES = {
    "revenue": ("Revenue growth", 0.25, False),
    "conversion_rate": ("Conversion rate", 0.15, False),
    "repeat_purchase_rate": ("Repeat-purchase rate", 0.30, False),
    "stockout_days": ("Stockout days", -0.40, True),
}


@dataclass(frozen=True)
class GoalChoices:
    """``baseline_start``–``baseline_end`` (inclusive store-local days), ``goal_end`` (the goal period's last
    day) and the targets as relative changes (0.25 = +25 %)."""

    baseline_start: dt.date
    baseline_end: dt.date
    goal_end: dt.date
    revenue: float = MEASURES["revenue"][1]
    conversion_rate: float = MEASURES["conversion_rate"][1]
    repeat_purchase_rate: float = MEASURES["repeat_purchase_rate"][1]
    stockout_days: float = MEASURES["stockout_days"][1]

    @property
    def goal_start(self) -> dt.date:
        return self.baseline_end + dt.timedelta(days=1)

    def target(self, measure: str) -> float:
        return float(getattr(self, measure))

    def validated(self) -> "GoalChoices":
        """Itself, or ``ValueError`` with one sentence naming the bad value."""
        if self.baseline_start > self.baseline_end:
            raise ValueError("The baseline must start on or before its last day.")
        if self.goal_end <= self.baseline_end:
            raise ValueError("The goal period must end after the baseline.")
        for measure, (label, _, falls) in MEASURES.items():
            value = self.target(measure)
            if not -1 < value <= 10 or value == 0:
                raise ValueError(f"The {label.lower()} target must be a change between −100 % and +1,000 %, "
                                 "not 0.")
            if falls != (value < 0):
                aim = "a fall (below 0 %)" if falls else "a rise (above 0 %)"
                raise ValueError(f"The {label.lower()} target must be {aim}.")
        return self


def default_goals(today: dt.date) -> GoalChoices:
    """The baseline of the 12 weeks before the last 12 weeks (ending yesterday), the goal period those weeks."""
    goal_end = today - dt.timedelta(days=1)
    baseline_end = goal_end - dt.timedelta(weeks=DEFAULT_WEEKS)
    return GoalChoices(baseline_end - dt.timedelta(weeks=DEFAULT_WEEKS) + dt.timedelta(days=1), baseline_end,
                       goal_end)


def load_goals(wh: Warehouse, store_id: str, today: dt.date) -> GoalChoices:
    """The store's saved goals, defaults for the rest (bad saved values fall back to the defaults)."""
    saved = get_choices(wh, PREFIX, scope=store_id)
    goals = default_goals(today)
    values = {}
    for f in fields(GoalChoices):
        if PREFIX + f.name not in saved:
            continue
        raw = saved[PREFIX + f.name]
        try:
            values[f.name] = dt.date.fromisoformat(raw) if f.name in ("baseline_start", "baseline_end",
                                                                      "goal_end") else float(raw)
        except (TypeError, ValueError):
            continue
    try:
        return replace(goals, **values).validated()
    except ValueError:
        return goals


def save_goals(wh: Warehouse, store_id: str, goals: GoalChoices, *, by: str | None = None) -> None:
    """Validate and save the goals (one transaction)."""
    goals.validated()
    with wh.transaction():
        for name, value in asdict(goals).items():
            set_choice(wh, PREFIX + name, value.isoformat() if isinstance(value, dt.date) else value,
                       scope=store_id, by=by)
