"""The insights section of the report folder: ``insights.md``, the grounded summary of the range.

Written by the provider chosen in Settings (a cached answer when the same
facts were answered before), else by the offline writer, with the fallback
reason and any ungrounded numbers stated at the top.
"""

from __future__ import annotations

import html

from analytics.insights.grounding import check, flag
from analytics.insights.facts import build_facts
from analytics.insights.service import write_insight
from analytics.report import ReportContext, ReportSection, SectionOutput


def insights_markdown(context: ReportContext) -> tuple[str, str]:
    """``insights.md`` and the HTML of the section."""
    store = context.store
    facts = build_facts(context.wh, store.store_id, context.start, context.end)
    insight = write_insight(context.wh, store.store_id, context.start, context.end, facts=facts)
    shown = flag(insight.text, check(insight.text, facts), lambda s: f"**{s} ⚠**")
    notes = [f"Written by {insight.provider} ({insight.model}) from the figures of {context.range_words} "
             f"against {facts['comparison']['start']} to {facts['comparison']['end']}."]
    if insight.fallback_reason:
        notes.append(insight.fallback_reason)
    if insight.ungrounded_numbers:
        notes.append(f"Numbers marked ⚠ match no computed figure: {', '.join(insight.ungrounded_numbers)}.")
    markdown = f"# Insights: {store.name}, {context.range_words}\n\n" + "\n\n".join(f"> {n}" for n in notes) \
        + "\n\n" + shown
    return markdown, _html(notes, shown)


def _html(notes: list[str], text: str) -> str:
    parts = [f"<p class=\"meta\">{html.escape(n)}</p>" for n in notes]
    items: list[str] = []
    for line in text.splitlines():
        if line.startswith("- "):
            items.append(f"<li>{html.escape(line[2:])}</li>")
            continue
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line.startswith("#"):
            parts.append(f"<h3>{html.escape(line.lstrip('#').strip())}</h3>")
        elif line.strip():
            parts.append(f"<p>{html.escape(line)}</p>")
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    return "\n".join(parts)


def _insights_section(context: ReportContext) -> SectionOutput:
    markdown, fragment = insights_markdown(context)
    return SectionOutput(files={"insights.md": markdown.encode("utf-8")}, html=fragment)


SECTIONS = (ReportSection("insights", "Insights", _insights_section),)
