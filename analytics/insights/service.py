"""Writing an insight: facts → cache → provider (streamed) or offline writer → grounding → stored.

:func:`write_insight` is what the pages, the command and the report call.
The provider is the one chosen in Settings (``insights.provider`` in
``app_settings``), else the ``INSIGHTS_PROVIDER`` setting, else ``offline``;
its model the one chosen in Settings, else ``OPENAI_MODEL`` /
``ANTHROPIC_MODEL``. Without a key, or when the provider fails (401, 429,
5xx, timeout, ...), the offline writer writes the summary from the same
facts and ``fallback_reason`` says why in one sentence.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Iterable

from analytics.insights.facts import build_facts, facts_hash
from analytics.insights.grounding import check
from analytics.insights.offline import MODEL as OFFLINE_MODEL
from analytics.insights.offline import write_offline
from analytics.insights.providers import (
    KEY_SETTINGS,
    LABELS,
    MODEL_SETTINGS,
    PROVIDERS,
    ProviderError,
    provider_config,
    stream_text,
)
from analytics.insights.store import Insight, cached_insight, save_insight
from data.app_settings import get_choice
from data.settings import setting
from data.warehouse import Warehouse

PROVIDER_CHOICE = "insights.provider"
MODEL_CHOICES = {"openai": "insights.openai_model", "anthropic": "insights.anthropic_model"}


def chosen_provider(wh: Warehouse) -> str:
    """The provider chosen in Settings, else ``INSIGHTS_PROVIDER``, else ``offline``."""
    for value in (get_choice(wh, PROVIDER_CHOICE), setting("INSIGHTS_PROVIDER")):
        if value in PROVIDERS:
            return value
    return "offline"


def chosen_model(wh: Warehouse, provider: str) -> str:
    """The model of ``provider``: chosen in Settings, else its ``*_MODEL`` setting (offline: its rules)."""
    if provider == "offline":
        return OFFLINE_MODEL
    return get_choice(wh, MODEL_CHOICES[provider]) or setting(MODEL_SETTINGS[provider]) or ""


def write_insight(
    wh: Warehouse,
    store_id: str,
    start: dt.date,
    end: dt.date,
    *,
    provider: str | None = None,
    model: str | None = None,
    topic: str = "overview",
    facts: dict[str, Any] | None = None,
    compare: tuple[dt.date, dt.date] | None = None,
    channels: Iterable[str] | None = None,
    on_text: Callable[[str], None] | None = None,
    use_cache: bool = True,
    timeout: float | None = None,
    max_retries: int | None = None,
) -> Insight:
    """The grounded summary of the range, written by ``provider`` (default: the chosen one), stored.

    ``on_text`` receives the text as it streams (each new piece); a cached or
    offline answer arrives in one piece. A cached answer (same facts hash,
    provider and model, no fallback) is returned without calling the API; the
    offline writer always runs (it is cheap and deterministic) and its text
    is stored once per facts.
    """
    provider = provider or chosen_provider(wh)
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")
    facts = facts if facts is not None else build_facts(wh, store_id, start, end, compare=compare,
                                                        channels=channels, topic=topic)
    digest = facts_hash(facts)
    model = OFFLINE_MODEL if provider == "offline" else (model or chosen_model(wh, provider))
    hit = cached_insight(wh, digest, provider, model) if use_cache else None
    if hit is not None and provider != "offline":
        if on_text is not None:
            on_text(hit.text)
        return hit

    reason = None
    text = None
    if provider != "offline":
        config = provider_config(provider, model, timeout=timeout, max_retries=max_retries)
        if not config.api_key:
            reason = (f"No {LABELS[provider]} key is set ({KEY_SETTINGS[provider]}), so the offline writer "
                      "wrote this summary from the same figures.")
        else:
            pieces: list[str] = []
            try:
                for piece in stream_text(config, facts):
                    pieces.append(piece)
                    if on_text is not None:
                        on_text(piece)
                text = "".join(pieces).strip() + "\n"
            except ProviderError as exc:
                reason = f"{exc.sentence}, so the offline writer wrote this summary from the same figures."
    written_by, written_with = (provider, model) if text is not None else ("offline", OFFLINE_MODEL)
    if text is None:
        text = write_offline(facts)
        if on_text is not None:
            on_text(text)
        if hit is not None and reason is None and hit.text == text:
            return hit  # the offline writer is cheap and deterministic: re-run, stored once
    grounding = check(text, facts)
    period, comparison = facts["period"], facts["comparison"]
    insight = Insight(
        store_id=store_id, facts_hash=digest, topic=facts["topic"],
        period_start=dt.date.fromisoformat(period["start"]), period_end=dt.date.fromisoformat(period["end"]),
        compare_start=dt.date.fromisoformat(comparison["start"]),
        compare_end=dt.date.fromisoformat(comparison["end"]),
        requested_provider=provider, provider=written_by, model=written_with, text=text,
        ungrounded_numbers=tuple(grounding.ungrounded), numbers_checked=len(grounding.numbers),
        fallback_reason=reason, created_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
    )
    save_insight(wh, insight, facts)
    return insight
