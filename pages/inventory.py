"""Inventory (not built yet): what to reorder today, what is at risk, what sits still."""

from ui.planned import planned_page

planned_page(
    "Inventory",
    "What to reorder today, what is about to run out, and what is not selling.",
    [
        "A reorder list: suggested quantities from the demand forecast, lead time, safety stock and pack sizes.",
        "Stockouts and stockout risk: variants with fewer days of cover than their supplier's lead time.",
        "Days of cover, sell-through and overstock per variant; ABC classes by net sales.",
        "Inventory value at unit cost, and an estimate of sales lost to stockouts.",
        "Purchase orders drafted per supplier, to export.",
    ],
)
