"""The marketing channel of a visit's source and medium, and the ad platform of a spend row.

A visit with a paid medium (``cpc``, ``ppc``, ``paid_social``, ``display`` …)
belongs to the ad platform of its source (``google``, ``meta`` for Facebook
and Instagram, ``tiktok``, ``microsoft`` for Bing …): the channel whose spend
paid for it. Any other visit is in one of the unpaid channels ``organic
search``, ``organic social``, ``email``, ``referral``, ``direct`` or
``other``; a visit without a source or medium is ``(unknown)``. Ad spend rows
are named by their platform through the same families, so ``Facebook Ads``
and ``meta`` are one channel.
"""

from __future__ import annotations

import polars as pl

__all__ = ["PAID_MEDIA", "UNPAID_CHANNELS", "channel_expr", "platform_expr", "visit_channel", "platform_of"]

PAID_MEDIA = frozenset({
    "cpc", "ppc", "cpm", "cpv", "cpa", "paid", "paid_search", "paidsearch", "paid-search", "paid_social",
    "paidsocial", "paid-social", "social_paid", "display", "banner", "shopping", "video_ads", "ads",
})
# Known spellings of each ad platform, in sources and in spend rows.
_FAMILIES = {
    "google": ("google", "google ads", "google_ads", "googleads", "adwords", "youtube", "gdn"),
    "meta": ("meta", "meta ads", "meta_ads", "facebook", "facebook ads", "facebook_ads", "fb", "instagram", "ig",
             "messenger", "audience_network"),
    "tiktok": ("tiktok", "tiktok ads", "tiktok_ads", "tik tok"),
    "microsoft": ("microsoft", "microsoft ads", "microsoft_ads", "bing", "bing ads", "bing_ads"),
    "pinterest": ("pinterest", "pinterest ads", "pinterest_ads"),
    "snapchat": ("snapchat", "snapchat ads", "snap"),
}
_PLATFORM = {spelling: family for family, spellings in _FAMILIES.items() for spelling in spellings}
_ORGANIC_MEDIA = {"organic": "organic search", "social": "organic social", "email": "email",
                  "newsletter": "email", "referral": "referral", "(none)": "direct"}
_MISSING = {"(unknown)", "(not set)", "(none set)"}
UNPAID_CHANNELS = ("organic search", "organic social", "email", "referral", "direct", "other", "(unknown)")


def platform_of(name: str | None) -> str:
    """The ad platform family of a source or a spend row's platform (lower case; itself when unknown)."""
    key = (name or "").strip().lower()
    return _PLATFORM.get(key, key or "(unknown)")


def visit_channel(source: str | None, medium: str | None) -> str:
    """The marketing channel of one visit (see the module's text)."""
    medium_key, source_key = (_known(medium), _known(source))
    if not medium_key and not source_key:
        return "(unknown)"
    if medium_key in PAID_MEDIA:
        return platform_of(source)
    if source_key == "(direct)":
        return "direct"
    return _ORGANIC_MEDIA.get(medium_key, "other")


def _known(value: str | None) -> str:
    key = (value or "").strip().lower()
    return "" if key in _MISSING else key


def channel_expr(source: str = "source", medium: str = "medium") -> pl.Expr:
    """:func:`visit_channel` over two columns."""
    return pl.struct(source, medium).map_elements(lambda r: visit_channel(r[source], r[medium]),
                                                  return_dtype=pl.String)


def platform_expr(column: str = "platform") -> pl.Expr:
    """:func:`platform_of` over a column."""
    return pl.col(column).map_elements(platform_of, return_dtype=pl.String)
