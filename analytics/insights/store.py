"""The insights table: every summary written, and the cache of answers by facts hash.

A summary is reused when the same facts (:func:`analytics.insights.facts.facts_hash`)
were already answered by the same provider and model without a fallback, so
an unchanged period never calls the API twice. Offline fallbacks are stored
too (with their reason) but never served from the cache: the next request
asks the provider again.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from data.warehouse import Warehouse


@dataclass(frozen=True)
class Insight:
    """One written summary and how it was made."""

    store_id: str
    facts_hash: str
    topic: str
    period_start: dt.date
    period_end: dt.date
    compare_start: dt.date | None
    compare_end: dt.date | None
    requested_provider: str
    provider: str
    model: str
    text: str
    ungrounded_numbers: tuple[str, ...]
    numbers_checked: int
    fallback_reason: str | None
    created_at: dt.datetime
    insight_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        """What ``python -m analytics insights --json`` prints."""
        return {
            "provider": self.provider, "model": self.model, "text": self.text,
            "ungrounded_numbers": list(self.ungrounded_numbers), "fallback_reason": self.fallback_reason,
            "requested_provider": self.requested_provider, "cached": self.cached, "facts_hash": self.facts_hash,
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
            "numbers_checked": self.numbers_checked, "created_at": self.created_at.isoformat(),
        }


_COLUMNS = ("insight_id", "store_id", "facts_hash", "topic", "period_start", "period_end", "compare_start",
            "compare_end", "requested_provider", "provider", "model", "text", "ungrounded_count", "grounding",
            "fallback_reason", "created_at")


def save_insight(wh: Warehouse, insight: Insight, facts: dict[str, Any]) -> None:
    """Store ``insight`` with its facts and grounding result."""
    grounding = {"numbers_checked": insight.numbers_checked, "ungrounded_numbers": list(insight.ungrounded_numbers)}
    wh.execute(
        "INSERT INTO insights (insight_id, store_id, facts_hash, topic, period_start, period_end, compare_start, "
        "compare_end, requested_provider, provider, model, text, ungrounded_count, grounding, facts, "
        "fallback_reason, created_at) VALUES (:insight_id, :store_id, :facts_hash, :topic, :period_start, "
        ":period_end, :compare_start, :compare_end, :requested_provider, :provider, :model, :text, "
        ":ungrounded_count, CAST(:grounding AS JSON), CAST(:facts AS JSON), :fallback_reason, :created_at)",
        {
            "insight_id": insight.insight_id, "store_id": insight.store_id, "facts_hash": insight.facts_hash,
            "topic": insight.topic, "period_start": insight.period_start, "period_end": insight.period_end,
            "compare_start": insight.compare_start, "compare_end": insight.compare_end,
            "requested_provider": insight.requested_provider, "provider": insight.provider,
            "model": insight.model, "text": insight.text, "ungrounded_count": len(insight.ungrounded_numbers),
            "grounding": json.dumps(grounding), "facts": json.dumps(facts, sort_keys=True),
            "fallback_reason": insight.fallback_reason, "created_at": insight.created_at,
        },
    )


def cached_insight(wh: Warehouse, facts_hash: str, provider: str, model: str) -> Insight | None:
    """The newest answer of ``provider``/``model`` to these facts that needed no fallback, or ``None``."""
    rows = wh.query(
        f"SELECT {', '.join(c if c != 'grounding' else 'CAST(grounding AS TEXT) AS grounding' for c in _COLUMNS)} "
        "FROM insights WHERE facts_hash = :h AND provider = :p AND model = :m AND fallback_reason IS NULL "
        "ORDER BY created_at DESC, insight_id LIMIT 1",
        {"h": facts_hash, "p": provider, "m": model},
    )
    if rows.height == 0:
        return None
    return _insight(rows.row(0, named=True))


def insight_history(wh: Warehouse, store_id: str, limit: int = 20) -> pl.DataFrame:
    """The newest summaries of a store: when, period, who wrote them, ungrounded numbers, fallback."""
    return wh.query(
        "SELECT created_at, topic, period_start, period_end, requested_provider, provider, model, "
        "ungrounded_count, fallback_reason FROM insights WHERE store_id = :s "
        f"ORDER BY created_at DESC, insight_id LIMIT {int(limit)}", {"s": store_id})


def _insight(row: dict[str, Any]) -> Insight:
    grounding = json.loads(row["grounding"] or "{}")
    created = row["created_at"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    return Insight(
        store_id=row["store_id"], facts_hash=row["facts_hash"], topic=row["topic"],
        period_start=row["period_start"], period_end=row["period_end"], compare_start=row["compare_start"],
        compare_end=row["compare_end"], requested_provider=row["requested_provider"], provider=row["provider"],
        model=row["model"], text=row["text"], ungrounded_numbers=tuple(grounding.get("ungrounded_numbers", ())),
        numbers_checked=int(grounding.get("numbers_checked", 0)), fallback_reason=row["fallback_reason"],
        created_at=created, insight_id=row["insight_id"], cached=True,
    )
