"""KPI cards: a figure, its change against the comparison, a sparkline and its definition.

Cards sit in a wrapping row: four to a row on a desk, two on a phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping, Sequence

import streamlit as st

from analytics.formatting import format_percent
from ui.charts import describe_value

CARD_MIN_WIDTH = 150  # px: two cards fit side by side at 390 px


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    delta: str | None = None
    delta_color: str = "normal"
    help: str = ""
    sparkline: tuple[float, ...] | None = None
    note: str | None = None


def change_text(kind: str, change: Mapping[str, Any] | None) -> str | None:
    """The change shown under a card: relative for money and counts (``+12.3%``), in points for
    ratios (``+1.2 pts``); ``None`` when there is no comparison or the comparison figure is 0."""
    if not change:
        return None
    if kind == "ratio":
        points = Decimal(change["change"]) * 100
        return f"{points:+.1f} pts"
    relative = change.get("relative_change")
    return None if relative is None else format_percent(relative, signed=True)


def kpi(label: str, value: Any, *, kind: str, currency: str, change: Mapping[str, Any] | None = None,
        lower_is_better: bool = False, help: str = "", sparkline: Sequence[float] | None = None,
        note: str | None = None) -> Kpi:
    """A card for ``value`` (``money``, ``count`` or ``ratio``) with the change from ``with_change``."""
    delta = change_text(kind, change)
    color = "inverse" if lower_is_better else "normal"
    if delta in ("+0.0%", "-0.0%", "+0.0 pts", "-0.0 pts"):
        delta, color = delta[1:], "off"
    return Kpi(label, describe_value(value, kind, currency), delta, color, help,
               tuple(sparkline) if sparkline is not None and len(sparkline) > 1 else None, note)


# Four cards to a row on a desk, two on a phone: a quarter of the row each, but never narrower
# than CARD_MIN_WIDTH (Streamlit's own basis of 224 px would leave one card per row on a phone).
# Figures get a font that fits "$1,898,812.45" in a card; on a phone a smaller one, and the
# "vs ..." note goes (the header says it). A label wraps rather than losing its end ("Predicted CLV,
# next 365 days" is a different figure without its period).
_CARD_STYLE = f"""<style>
[class*="st-key-kpis_"] > [data-testid="stElementContainer"] {{
    flex: 1 1 calc(25% - 0.75rem) !important;
    min-width: {CARD_MIN_WIDTH}px !important;
}}
[class*="st-key-kpis_"] [data-testid="stMetricValue"] {{ font-size: 1.65rem; }}
[class*="st-key-kpis_"] [data-testid="stMetricLabel"],
[class*="st-key-kpis_"] [data-testid="stMetricLabel"] * {{
    white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
    height: auto !important;
}}
@media (max-width: 640px) {{
    [class*="st-key-kpis_"] [data-testid="stMetricValue"] {{ font-size: 1.2rem; }}
    [class*="st-key-kpis_"] [data-testid="stMetricDeltaDescription"] {{ display: none; }}
}}
</style>"""


def kpi_cards(cards: Sequence[Kpi], *, key: str, delta_description: str | None = None) -> None:
    """Draw the cards in a wrapping row (``key`` names the row, unique on the page)."""
    st.html(_CARD_STYLE)
    with st.container(horizontal=True, gap="small", key=f"kpis_{key}"):
        for card in cards:
            st.metric(
                card.label,
                card.value,
                card.delta,
                delta_color=card.delta_color,
                delta_arrow="off" if card.delta_color == "off" else "auto",
                delta_description=(card.note or delta_description) if card.delta or card.note else None,
                help=card.help or None,
                border=True,
                chart_data=list(card.sparkline) if card.sparkline else None,
                chart_type="area",
                width="stretch",
                height="stretch",
            )
