"""The "Explain" panel: the grounded written summary of a page's range.

``explain_panel(wh, store, filters, topic)`` (topic ``sales``, ``customers``
or ``inventory``) draws a button; once pressed, the panel shows the summary
of the sidebar's range against its comparison, written by the provider chosen
in Settings: a cached answer for the same figures at once, else the model's
text streamed into the page, else (no key, a failure) the offline writer's
text with one sentence saying why. Numbers that match no computed figure are
highlighted with ⚠ and listed under the text.

``summary_panel`` is the same panel without the opening button (the
Insights page).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from analytics.insights.facts import build_facts, facts_hash, facts_json, has_sales
from analytics.insights.grounding import check, flag
from analytics.insights.providers import LABELS
from analytics.insights.service import chosen_model, chosen_provider, write_insight
from analytics.insights.store import Insight, cached_insight
from ui.cache import cached_query
from ui import filters as ui_filters
from ui.login import may_see
from ui.errors import section

GROUNDING_HELP = ("Written from the figures the app computed for this range and its comparison (no customer "
                  "names, emails or addresses). Every number in the text is checked against those figures, "
                  "allowing rounding and percentages; a number that matches none is highlighted with ⚠.")
_REMEMBERED = "_explain_answers"


def explain_panel(wh, store: Any, filters, topic: str) -> None:
    """The Explain panel of a page: ``store`` is a store id or a ``Store`` (``None``: the filters' store)."""
    store_id = store if isinstance(store, str) else getattr(store, "store_id", None) or filters.store_id
    if not may_see(store_id):
        return  # a store this user may not see has nothing to explain to them
    key = f"explain_{topic}"
    with section("The written summary"):
        st.subheader("Explain these figures", help=GROUNDING_HELP)
        opened = st.session_state.get(f"_{key}_open", False)
        pressed = False
        if not opened:
            provider = chosen_provider(wh)
            pressed = st.button("Explain", key=key, icon=":material/auto_awesome:", type="secondary",
                                help=f"What changed, why, and what to do, written by {LABELS[provider]}.")
            if not pressed:
                st.caption(f"A few sentences on what changed in {filters.range_label}, why, and what to do, "
                           f"written by {LABELS[provider]} from the figures on this page.")
                return
            st.session_state[f"_{key}_open"] = True
        compare = (filters.compare_start, filters.compare_end) if filters.has_comparison else None
        summary_panel(wh, store_id, filters.start, filters.end, compare=compare, channels=filters.channel_filter,
                      topic=topic, timezone=filters.timezone, key=key, write_now=pressed)


def summary_panel(wh, store_id: str, start: dt.date, end: dt.date, *, compare: tuple[dt.date, dt.date] | None,
                  channels: tuple[str, ...] | None, topic: str, timezone: str, key: str,
                  write_now: bool = False) -> dict[str, Any] | None:
    """The summary of the range: cached, offline, or written on a button press (streamed). Returns the facts."""
    with st.spinner("Gathering the figures…"):
        # Stock risks as of the store's today, the day the Products and Inventory pages show.
        facts = cached_query(build_facts, wh, store_id, start, end, compare=compare, channels=channels, topic=topic,
                             stock_as_of=ui_filters.store_now(timezone).date())
    if not has_sales(facts):
        st.info("No orders or refunds in this range or the one it is compared with, so there is nothing to "
                "explain. Widen the dates, or connect a store in Settings.", icon=":material/event_busy:")
        return facts
    provider = chosen_provider(wh)
    model = chosen_model(wh, provider)
    digest = facts_hash(facts)
    remembered = st.session_state.setdefault(_REMEMBERED, {})
    answer = remembered.get((digest, provider, model))
    if answer is None and provider == "offline":
        answer = write_insight(wh, store_id, start, end, provider="offline", facts=facts)
    if answer is None:
        answer = cached_insight(wh, digest, provider, model)
    if answer is None:
        label = LABELS[provider]
        write_now = write_now or st.button(f"Write it with {label}", key=f"{key}_write",
                                           icon=":material/auto_awesome:")
        if not write_now:
            st.caption(f"{label} ({model}) writes the summary when you press the button: only the figures are "
                       "sent, never customer names, emails or addresses.")
            return facts
        answer = _stream(wh, store_id, start, end, facts, provider, model)
        remembered[(digest, provider, model)] = answer
    show_insight(answer, facts, timezone)
    return facts


def _stream(wh, store_id, start, end, facts, provider: str, model: str) -> Insight:
    """Write with the provider, showing the text as it arrives."""
    placeholder = st.empty()
    pieces: list[str] = []

    def arrived(piece: str) -> None:
        pieces.append(piece)
        placeholder.markdown(markdown_safe("".join(pieces)) + " ▌")

    with st.spinner(f"{LABELS[provider]} is writing…"):
        insight = write_insight(wh, store_id, start, end, provider=provider, model=model, facts=facts,
                                on_text=arrived)
    placeholder.empty()
    return insight


def show_insight(insight: Insight, facts: dict[str, Any], timezone: str) -> None:
    """The text with ungrounded numbers highlighted, the fallback notice and who wrote it."""
    if insight.fallback_reason:
        st.warning(insight.fallback_reason, icon=":material/cloud_off:")
    grounding = check(insight.text, facts)
    marked = flag(insight.text, grounding, _marker)
    with st.container(border=True, key=f"insight_{insight.facts_hash[:12]}"):
        st.markdown(markdown_safe(marked, keep_markers=True))
    if grounding.ungrounded:
        st.warning(f"{len(grounding.ungrounded)} number(s) in this text match no figure the app computed "
                   f"({', '.join(grounding.ungrounded)}); they are marked ⚠ and should not be trusted.",
                   icon=":material/report:")
    when = insight.created_at.astimezone(ZoneInfo(timezone))
    saved = " · saved answer for these figures" if insight.cached else ""
    st.caption(f"Written by {LABELS.get(insight.provider, insight.provider)} ({insight.model}) on "
               f"{when.day} {when:%b %Y %H:%M} (store time){saved} · {len(grounding.numbers)} numbers checked "
               "against the figures.")
    with st.expander("The figures it was written from"):
        st.caption("Exactly what the writer received (no customer data).")
        st.code(facts_json(facts), language="json", wrap_lines=True)
        st.download_button("Download the figures (JSON)", facts_json(facts).encode("utf-8"),
                           file_name=f"insights_facts_{facts['period']['start']}_{facts['period']['end']}.json",
                           mime="application/json", icon=":material/download:",
                           key=f"facts_json_{insight.facts_hash[:12]}")


_MARK_OPEN, _MARK_CLOSE = "\u0001", "\u0002"


def _marker(number: str) -> str:
    return f"{_MARK_OPEN}{number} ⚠{_MARK_CLOSE}"


def markdown_safe(text: str, keep_markers: bool = False) -> str:
    """Model text for st.markdown: dollar signs escaped (no LaTeX), HTML left as text, headings made small,
    ⚠ marks highlighted."""
    safe = text.replace("\\", "\\\\").replace("$", "\\$").replace("<", "&lt;")
    safe = re.sub(r"^#{1,4} ", "##### ", safe, flags=re.MULTILINE)  # headings sized for a panel
    if keep_markers:
        safe = safe.replace(_MARK_OPEN, ":red-background[**").replace(_MARK_CLOSE, "**]")
    return safe
