"""Insights (not built yet): what changed and why, in a few sentences."""

from ui.planned import planned_page

planned_page(
    "Insights",
    "What changed this week, and what to look at first.",
    [
        "A short written summary of the period: the largest changes in sales, customers and stock.",
        "Every number in the summary is checked against the computed figures; without an AI key an offline "
        "narrator writes it from the same facts.",
        "Sales forecasts per product with their accuracy on past weeks.",
    ],
)
