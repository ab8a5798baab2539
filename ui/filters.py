"""The sidebar filters every page shares, and the page header.

``sidebar_filters(wh)`` draws the store, date range (presets or custom),
comparison and channel pickers in the sidebar (and, on pages that convert
money, the reporting currency) and returns a frozen :class:`Filters`. The choices are kept in ``st.session_state`` under keys of
their own, so they survive a visit to a page that shows no filters (Streamlit
forgets a widget's state when a run does not draw it).

The choices are also kept in the page's address (:func:`link_params`), so a copied link opens the
same view; a value in a link that is not understood falls back to the default with a note.

``page_header(title, question, wh, filters)`` writes the title, the one
sentence the page answers, the range in words and "Data as of HH:MM (store
time)" from the newest order or refund, naming any stale synced source.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from analytics.fx import conversion_note, rate_currencies
from analytics.periods import LAST_YEAR_SHIFT, previous_period, range_days, same_period_last_year
from analytics.periods import range_in_words as describe_range
from analytics.store_state import Store, list_stores, stale_sources, store_channels
from data.settings import setting
from data.warehouse import Warehouse
from ui.cache import cached_query, cached_warehouse_query, current_version
from ui.login import allowed_stores

PRESETS = {
    "today": "Today",
    "yesterday": "Yesterday",
    "last_7_days": "Last 7 days",
    "last_30_days": "Last 30 days",
    "last_90_days": "Last 90 days",
    "month_to_date": "Month to date",
    "quarter_to_date": "Quarter to date",
    "year_to_date": "Year to date",
    "custom": "Custom dates",
}
DEFAULT_PRESET = "last_30_days"

COMPARISONS = {
    "previous_period": "Previous period",
    "previous_year": "Same period last year (by weekday)",
    "none": "No comparison",
}
COMPARISON_WORDS = {"previous_period": "the previous period", "previous_year": "the same period last year"}
COMPARISON_SHORT = {"previous_period": "vs prior period", "previous_year": "vs last year"}
DEFAULT_COMPARISON = "previous_period"

STORE_CURRENCY = "store"  # the reporting currency choice "the store's own"
ALL_STORES = "all"  # the store choice "All stores" (on the pages that add stores up)
_PREFIX = "filters_"
_KEPT = "_kept_filters_"


@dataclass(frozen=True)
class Filters:
    """What the sidebar chose. Dates are inclusive store-local days."""

    store_id: str
    currency: str
    timezone: str
    start: dt.date
    end: dt.date
    compare_start: dt.date | None
    compare_end: dt.date | None
    comparison_label: str  # "the previous period", "the same period last year", "" without comparison
    channels: tuple[str, ...]  # empty: every channel
    range_label: str  # "1–30 Nov 2026 vs 1–31 Oct 2026"
    store_name: str = ""
    preset: str = DEFAULT_PRESET
    comparison: str = DEFAULT_COMPARISON
    # "Today" counts up to a moment, and compares with its weekday a week (or a year) before up to the
    # same time of day: both are aware datetimes then, ``None`` for ranges of whole days.
    until: dt.datetime | None = None
    compare_until: dt.datetime | None = None
    # The reporting currency picked: a currency code, "store" (the store's own), or None on a page that
    # does not convert money.
    reporting: str | None = None
    # With "All stores" (store_id ALL_STORES): the stores added up.
    stores: tuple[str, ...] = ()

    @property
    def all_stores(self) -> bool:
        return self.store_id == ALL_STORES

    @property
    def converted(self) -> bool:
        """Money on a page that converts is in another currency than the store's."""
        return self.reporting not in (None, STORE_CURRENCY, self.currency)

    @property
    def money_currency(self) -> str:
        """The currency of the money a converting page shows."""
        return self.reporting if self.converted else self.currency

    @property
    def reporting_currency(self) -> str | None:
        """What an analytics call's ``currency`` argument gets: ``None`` when nothing is converted."""
        return self.reporting if self.converted else None

    @property
    def conversion_note(self) -> str:
        """"converted to EUR at ECB rates of each day", or "" when nothing is converted."""
        return conversion_note(self.reporting) if self.converted else ""

    @property
    def has_comparison(self) -> bool:
        return self.compare_start is not None

    @property
    def comparison_short(self) -> str | None:
        """``vs prior period``, ``vs last year`` or, for today, ``vs last Wed`` (a card's note); ``None``
        without comparison."""
        if not self.has_comparison:
            return None
        if self.compare_until is not None and self.comparison == "previous_period":
            return f"vs last {self.compare_start:%a}"
        return COMPARISON_SHORT.get(self.comparison)

    @property
    def channel_filter(self) -> tuple[str, ...] | None:
        """The channels for an analytics call: ``None`` for every channel."""
        return self.channels or None

    @property
    def days(self) -> int:
        return range_days(self.start, self.end)

    def today(self) -> dt.date:
        return store_now(self.timezone).date()


# -- pure parts ---------------------------------------------------------------------

def store_now(timezone: str) -> dt.datetime:
    """The current time in the store's timezone."""
    return dt.datetime.now(ZoneInfo(timezone))


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The inclusive range of a preset, ``today`` being the store-local date.

    "Last N days" are the N whole days before today (today is still going);
    "to date" presets run to today included.
    """
    one = dt.timedelta(days=1)
    if preset == "today":
        return today, today
    if preset == "yesterday":
        return today - one, today - one
    if preset.startswith("last_") and preset.endswith("_days"):
        days = int(preset[len("last_"):-len("_days")])
        return today - dt.timedelta(days=days), today - one
    if preset == "month_to_date":
        return today.replace(day=1), today
    if preset == "quarter_to_date":
        return today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1), today
    if preset == "year_to_date":
        return today.replace(month=1, day=1), today
    raise ValueError(f"unknown date preset {preset!r}")


def comparison_range(comparison: str, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The range compared with ``start``–``end``, ``None`` without comparison."""
    if comparison == "previous_period":
        return previous_period(start, end)
    if comparison == "previous_year":
        return same_period_last_year(start, end)
    if comparison == "none":
        return None
    raise ValueError(f"unknown comparison {comparison!r}")


def make_filters(store: Store, preset: str, comparison: str, channels: tuple[str, ...], today: dt.date,
                 custom: tuple[dt.date, dt.date] | None = None, now: dt.datetime | None = None,
                 reporting: str | None = None) -> Filters:
    """The :class:`Filters` for these choices (``custom`` is the range of the ``custom`` preset).

    ``now`` (aware) makes "Today" count up to the next whole minute and compare with the same weekday
    last week (or, by weekday, last year) up to the same time of day, as the live panel does.
    ``reporting`` is the reporting currency (None: the store's)."""
    if preset == "today" and now is not None:
        return replace(_today_filters(store, comparison, channels, now), reporting=reporting)
    if preset == "custom":
        if custom is None:
            raise ValueError("the custom preset needs a range")
        start, end = sorted(custom)
    else:
        start, end = preset_range(preset, today)
    compared = comparison_range(comparison, start, end)
    label = describe_range(start, end)
    if compared:
        label = f"{label} vs {describe_range(*compared)}"
    return Filters(
        store_id=store.store_id, currency=store.currency, timezone=store.timezone, start=start, end=end,
        compare_start=compared[0] if compared else None, compare_end=compared[1] if compared else None,
        comparison_label=COMPARISON_WORDS.get(comparison, ""), channels=tuple(sorted(channels)),
        range_label=label, store_name=store.name, preset=preset, comparison=comparison, reporting=reporting,
    )


def live_cut(now: dt.datetime) -> dt.datetime:
    """The moment "today so far" runs to: the next whole minute after ``now`` (aware), or the day's last
    moment in its final minute (the cut never moves to the next day)."""
    cut = (now + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
    if cut.date() != now.date():
        cut = dt.datetime.combine(now.date(), dt.time.max, tzinfo=now.tzinfo)
    return cut


def _today_filters(store: Store, comparison: str, channels: tuple[str, ...], now: dt.datetime) -> Filters:
    zone = ZoneInfo(store.timezone)
    cut = live_cut(now.astimezone(zone))
    today = cut.date()
    back = {"previous_period": dt.timedelta(days=7), "previous_year": LAST_YEAR_SHIFT}.get(comparison)
    if comparison not in COMPARISONS:
        raise ValueError(f"unknown comparison {comparison!r}")
    label = f"Today up to {cut:%H:%M}"
    compare_day = compare_until = None
    words = ""
    if back is not None:
        compare_day = today - back
        compare_until = dt.datetime.combine(compare_day, cut.time(), tzinfo=zone)
        label += f" vs {compare_day:%a} {describe_range(compare_day, compare_day)} up to {cut:%H:%M}"
        words = ("the same weekday last week" if comparison == "previous_period" else "the same weekday last year")
        words += " up to the same time"
    return Filters(
        store_id=store.store_id, currency=store.currency, timezone=store.timezone, start=today, end=today,
        compare_start=compare_day, compare_end=compare_day, comparison_label=words,
        channels=tuple(sorted(channels)), range_label=label, store_name=store.name, preset="today",
        comparison=comparison, until=cut, compare_until=compare_until,
    )


# -- the sidebar --------------------------------------------------------------------

def sidebar_filters(wh: Warehouse, *, currencies: bool = False, all_stores: bool = False) -> Filters:
    """Draw the sidebar filters and return the choice.

    ``currencies``: the page converts money, so the reporting currency is
    offered (elsewhere the choice is kept, not drawn, and money stays in the
    store's currency). ``all_stores``: the page can add the stores up, so
    "All stores" is offered beside them (money then always in one reporting
    currency; dates are read as each store's own local days, and presets
    such as "Today" follow the first store's clock). Without any store in the warehouse, shows
    :func:`no_store_notice` and stops the page (nothing else can be shown).
    """
    try:
        stores = cached_warehouse_query(list_stores, wh, seconds=10)
    except Exception as exc:  # noqa: BLE001 - one sentence on the page, never a traceback
        st.error(f"The warehouse could not be read ({type(exc).__name__}): check DATABASE_URL, or rebuild it "
                 "with `python -m connectors demo`.", icon=":material/database:")
        st.stop()
    if not stores:
        no_store_notice()
        st.stop()
    allowed = allowed_stores()
    if allowed is not None:
        # An analyst limited to some stores: the others are not offered, linked or named.
        stores = [s for s in stores if s.store_id in allowed]
        if not stores:
            st.info("No store is shared with you yet. Ask an owner of this app to give you access to a store "
                    "(Settings › Users).", icon=":material/lock:")
            st.stop()
    by_id = {s.store_id: s for s in stores}
    sidebar = st.sidebar
    for note in _read_link(by_id):
        sidebar.warning(note, icon=":material/link_off:")

    preferred = setting("STORE_ID")
    default_store = preferred if preferred in by_id else ("demo" if "demo" in by_id else stores[0].store_id)
    offered = [*by_id, ALL_STORES] if all_stores and len(by_id) > 1 else list(by_id)
    _restore("store", default_store, allowed=offered)
    if len(by_id) > 1:
        store_id = sidebar.selectbox(
            "Store", offered, key=_PREFIX + "store",
            format_func=lambda s: "All stores" if s == ALL_STORES else by_id[s].name,
            on_change=_changed, args=("store",),
            help="Every figure on every page is for this store, in its currency and timezone. All stores (on "
                 "the Sales page) adds them up in one currency, each store's days in its own timezone.",
        )
    else:
        store_id = stores[0].store_id
        sidebar.markdown(f":material/storefront: **{stores[0].name}**",
                         help=f"Figures in {stores[0].currency}, days in {stores[0].timezone}.")
    _keep("store", store_id)
    store = all_stores_store(stores) if store_id == ALL_STORES else by_id[store_id]
    today = store_now(store.timezone).date()

    _restore("preset", DEFAULT_PRESET, allowed=PRESETS)
    preset = sidebar.selectbox(
        "Dates", list(PRESETS), key=_PREFIX + "preset", format_func=PRESETS.get,
        on_change=_changed, args=("preset",),
        help="Store-local days. \"Last N days\" end yesterday; \"to date\" ranges include today so far.",
    )
    _keep("preset", preset)
    custom = None
    if preset == "custom":
        current = st.session_state.get(_PREFIX + "custom")
        if not (isinstance(current, (tuple, list)) and len(current) == 2):
            current = None
        kept = st.session_state.get(_KEPT + "custom") or current or preset_range(DEFAULT_PRESET, today)
        # A range being picked (one date so far) is shown as it is; else the kept range.
        st.session_state[_PREFIX + "custom"] = tuple(st.session_state.get(_KEPT + "custom_picked") or kept)
        picked = sidebar.date_input("From – to", key=_PREFIX + "custom", format="YYYY-MM-DD",
                                    on_change=_picked)
        if isinstance(picked, (tuple, list)) and len(picked) == 2:
            custom = (picked[0], picked[1])
        else:  # the second date is not picked yet
            custom = tuple(kept)
        _keep("custom", custom)
    else:
        _keep("custom", preset_range(preset, today))

    _restore("comparison", DEFAULT_COMPARISON, allowed=COMPARISONS)
    comparison = sidebar.selectbox(
        "Compare with", list(COMPARISONS), key=_PREFIX + "comparison", format_func=COMPARISONS.get,
        on_change=_changed, args=("comparison",),
        help="Previous period: the same number of days just before. Last year: the same dates shifted by "
             "52 weeks, so weekdays line up. Today is compared with the same weekday last week (or last year) "
             "up to the same time of day.",
    )
    _keep("comparison", comparison)

    try:
        # The days before today are cached until they change; today's orders, which keep arriving, are
        # read through the date index.
        options = sorted({channel for one in (by_id if store_id == ALL_STORES else [store_id])
                          for day_range in ((None, today - dt.timedelta(days=1)), (today, None))
                          for channel in cached_query(store_channels, wh, one, *day_range)})
    except Exception:  # noqa: BLE001 - without the list, the filter offers nothing rather than failing
        options = []
    _restore("channels", [], allowed=None)
    linked = st.session_state.pop(_LINK_CHANNELS, None)
    unknown = [c for c in linked or () if c not in options]
    if unknown:
        sidebar.warning(f"The link names sales channels this store does not have ({', '.join(unknown)}); they "
                        "are left out.", icon=":material/link_off:")
    st.session_state[_PREFIX + "channels"] = [c for c in st.session_state[_PREFIX + "channels"] if c in options]
    channels = sidebar.multiselect(
        "Sales channels", options, key=_PREFIX + "channels", placeholder="All channels",
        on_change=_changed, args=("channels",),
        format_func=channel_name,
        help="Only the orders (and their refunds) placed through these channels. Empty: every channel.",
    )
    _keep("channels", list(channels))

    reporting = _reporting_currency(wh, store, sidebar, [by_id[s] for s in by_id]
                                    if store_id == ALL_STORES else None) if currencies else None
    filters = make_filters(store, preset, comparison, tuple(channels), today, custom, now=store_now(store.timezone),
                           reporting=reporting)
    if store_id == ALL_STORES:
        filters = replace(filters, stores=tuple(by_id))
    sidebar.caption(filters.range_label)
    _write_link(filters, len(by_id) > 1)
    return filters


def default_reporting() -> str:
    """``REPORTING_CURRENCY`` (upper case), or ``store`` when it is unset."""
    return (setting("REPORTING_CURRENCY") or "").strip().upper() or STORE_CURRENCY


def all_stores_store(stores: list[Store]) -> Store:
    """"All stores" as a store: their common currency (none when they differ), the first one's timezone."""
    currencies = {s.currency for s in stores}
    return Store(ALL_STORES, "All stores", currencies.pop() if len(currencies) == 1 else "", stores[0].timezone)


def _reporting_currency(wh: Warehouse, store: Store, sidebar, added: list[Store] | None = None) -> str | None:
    """The currency picker: the store's own currency, or one with ECB rates; the choice (None: the store's).

    ``added``: the stores of "All stores", every one of whose currencies must have rates to be converted;
    stores in different currencies have no "store currency" to fall back on."""
    try:
        known = cached_warehouse_query(rate_currencies, wh, seconds=300)
    except Exception:  # noqa: BLE001 - without rates, the store's own currency is the only choice
        known = []
    own = [s.currency for s in added] if added else [store.currency]
    if store.currency == "" and not all(c in known for c in own):
        st.info("These stores sell in different currencies, which are added up only once converted, and some "
                "have no ECB exchange rates yet (python -m connectors fx loads them). Choose one store.",
                icon=":material/currency_exchange:")
        st.stop()
    # Only a store whose own currency has rates can be converted.
    if all(c in known for c in own):
        options = [*([STORE_CURRENCY] if store.currency else []), *[c for c in known if c != store.currency]]
    else:
        options = [STORE_CURRENCY]
    if len(options) == 1 and options[0] == STORE_CURRENCY:
        return STORE_CURRENCY  # nothing to convert to: no picker (the kept choice stays for other stores)
    linked = st.session_state.pop(_LINK_CURRENCY, None)
    if linked is not None and linked.upper() in (store.currency, STORE_CURRENCY.upper()):
        st.session_state[_KEPT + "currency"] = STORE_CURRENCY
    elif linked is not None and linked not in options:
        sidebar.warning(f"The link's currency ({linked}) has no exchange rates here, so figures are in the "
                        "store's currency.", icon=":material/link_off:")
        st.session_state[_KEPT + "currency"] = STORE_CURRENCY
    fallback = STORE_CURRENCY if STORE_CURRENCY in options else ("EUR" if "EUR" in options else options[0])
    _restore("currency", default_reporting() if default_reporting() in options else fallback, allowed=options)
    picked = sidebar.selectbox(
        "Currency", options, key=_PREFIX + "currency", on_change=_changed, args=("currency",),
        format_func=lambda c: f"Store currency ({store.currency})" if c == STORE_CURRENCY else c,
        help="Money on this page in another currency, converted at the ECB reference rate of each day (a "
             "weekend or holiday keeps the last working day's rate).",
    )
    _keep("currency", picked)
    return picked


# -- the link ----------------------------------------------------------------------------
# The choices live in the address too (``?dates=custom&from=2026-11-01&to=2026-11-30&compare=previous_year
# &channels=pos,online_store&store=...``), so a copied link opens the same view. The address is read once
# per browser session, before the sidebar's widgets, and written after every run.

LINK_KEYS = ("store", "dates", "from", "to", "compare", "channels", "currency")
_LINK_READ = _KEPT + "link_read"
_LINK_CHANNELS = _KEPT + "link_channels"
_LINK_CURRENCY = _KEPT + "link_currency"


def link_choices(params: dict[str, str], stores: set[str], channels: set[str] | None = None
                 ) -> tuple[dict[str, Any], list[str]]:
    """The filter choices a link's query parameters make (``store``, ``preset``, ``custom``,
    ``comparison``, ``channels``, ``currency``; only those it names and that are valid) and one sentence for each
    value that is not understood (that choice keeps its default). ``channels`` (when known) are the
    store's channels."""
    choices: dict[str, Any] = {}
    notes: list[str] = []
    store = params.get("store")
    if store is not None:
        if store in stores or store == ALL_STORES:
            choices["store"] = store
        else:
            notes.append(f"The link names a store ({store!r}) that is not in this warehouse, so the default "
                         "store is shown.")
    preset = params.get("dates")
    if preset is not None:
        if preset == "custom":
            try:
                start, end = (dt.date.fromisoformat(params.get(k, "")) for k in ("from", "to"))
            except ValueError:
                notes.append("The link's custom dates are not understood (from and to must be YYYY-MM-DD), so "
                             f"{PRESETS[DEFAULT_PRESET].lower()} are shown.")
            else:
                choices["preset"], choices["custom"] = "custom", tuple(sorted((start, end)))
        elif preset in PRESETS:
            choices["preset"] = preset
        else:
            notes.append(f"The link's dates ({preset!r}) are not a range this app knows, so "
                         f"{PRESETS[DEFAULT_PRESET].lower()} are shown.")
    comparison = params.get("compare")
    if comparison is not None:
        if comparison in COMPARISONS:
            choices["comparison"] = comparison
        else:
            notes.append(f"The link's comparison ({comparison!r}) is not understood, so the figures are "
                         "compared with the previous period.")
    wanted = params.get("channels")
    if wanted is not None:
        picked = [c for c in wanted.split(",") if c]
        unknown = [c for c in picked if channels is not None and c not in channels]
        if unknown:
            notes.append(f"The link names sales channels this store does not have ({', '.join(unknown)}); "
                         "they are left out.")
        choices["channels"] = [c for c in picked if c not in unknown]
    currency = params.get("currency")
    if currency is not None:
        # Checked against the currencies with rates once the picker is drawn.
        currency = currency.strip()
        choices["currency"] = STORE_CURRENCY if currency.lower() in ("", STORE_CURRENCY) else currency.upper()
    return choices, notes


def link_params(filters: Filters, with_store: bool) -> dict[str, str]:
    """The query parameters that open ``filters`` again (defaults left out)."""
    params: dict[str, str] = {}
    if with_store:
        params["store"] = filters.store_id
    if filters.preset != DEFAULT_PRESET:
        params["dates"] = filters.preset
        if filters.preset == "custom":
            params["from"], params["to"] = filters.start.isoformat(), filters.end.isoformat()
    if filters.comparison != DEFAULT_COMPARISON:
        params["compare"] = filters.comparison
    if filters.channels:
        params["channels"] = ",".join(filters.channels)
    default = default_reporting()
    default = STORE_CURRENCY if default == filters.currency else default
    if filters.reporting is not None and filters.reporting != default:
        params["currency"] = filters.reporting
    return params


def _read_link(by_id: dict[str, Store]) -> list[str]:
    """Once per browser session: the link's choices into the kept filters; the notes of bad values."""
    if st.session_state.get(_LINK_READ):
        return []
    st.session_state[_LINK_READ] = True
    params = {key: st.query_params[key] for key in LINK_KEYS if key in st.query_params}
    if not params:
        return []
    choices, notes = link_choices(params, set(by_id))
    for name, value in choices.items():
        st.session_state[_KEPT + name] = value
    if "channels" in choices:
        # Checked against the store's channels once they are known (see sidebar_filters).
        st.session_state[_LINK_CHANNELS] = choices["channels"]
    if "currency" in choices:
        st.session_state[_LINK_CURRENCY] = choices["currency"]
    return notes


def _write_link(filters: Filters, with_store: bool) -> None:
    wanted = link_params(filters, with_store)
    current = {key: st.query_params[key] for key in LINK_KEYS if key in st.query_params}
    if current != wanted:
        for key in LINK_KEYS:
            if key not in wanted and key in st.query_params:
                del st.query_params[key]
        st.query_params.update(wanted)


def channel_name(channel: str) -> str:
    """``online_store`` → ``Online store``."""
    return channel.replace("_", " ").capitalize() if channel != "pos" else "Point of sale"


def _restore(name: str, default: Any, *, allowed: Any) -> None:
    """Put the kept choice into the widget's state before the widget is drawn.

    Every page draws its own copy of the filters, and Streamlit gives a widget
    on another page a new identity, which would start from its first option.
    So the choice is kept under a key of its own (updated by the widgets'
    ``on_change``, which runs before the page) and written back on every run.
    """
    key = _PREFIX + name
    value = st.session_state.get(_KEPT + name, st.session_state.get(key, default))
    if allowed is not None and value not in allowed:
        value = default
    st.session_state[key] = value


def _changed(name: str) -> None:
    """``on_change`` of a filter widget: keep what the user just chose."""
    st.session_state[_KEPT + name] = st.session_state[_PREFIX + name]


def _picked() -> None:
    """``on_change`` of the custom range: keep a range being picked (one date so far) until it is whole."""
    picked = st.session_state[_PREFIX + "custom"]
    whole = isinstance(picked, (tuple, list)) and len(picked) == 2
    st.session_state[_KEPT + "custom_picked"] = None if whole else picked
    if whole:
        st.session_state[_KEPT + "custom"] = tuple(picked)


def _keep(name: str, value: Any) -> None:
    st.session_state[_KEPT + name] = value


# -- the header ---------------------------------------------------------------------

def page_header(title: str, question: str, wh: Warehouse, filters: Filters) -> None:
    """Title, the question the page answers, the range in words, data freshness and stale sources."""
    st.title(title)
    st.caption(question)
    now = store_now(filters.timezone)
    shown = filters.stores if filters.all_stores else (filters.store_id,)
    try:
        times = [current_version(wh, s).newest_record_at for s in shown]
        newest = max((t for t in times if t is not None), default=None)
    except Exception:  # noqa: BLE001 - the figures below say what went wrong
        newest = None
    if newest is None:
        as_of = "No orders or refunds yet"
    else:
        local = newest.astimezone(ZoneInfo(filters.timezone))
        when = f"{local:%H:%M}" if local.date() == now.date() else f"{local.day} {local:%b %Y %H:%M}"
        as_of = f"Data as of {when} (store time)"
    channels = ", ".join(channel_name(c) for c in filters.channels) if filters.channels else "all channels"
    st.markdown(f"**{filters.range_label}** · {channels} · {as_of}")
    try:
        found = [stale_sources(wh, s, now) for s in shown]
        stale = pl.concat(found) if found else None
    except Exception:  # noqa: BLE001 - freshness notes must never break a page
        stale = None
    if stale is not None and stale.height:
        names = ", ".join(stale["stream"].to_list())
        st.warning(f"Not synced in the last day: {names}. Figures from these may be behind; "
                   "check the connection in Settings.", icon=":material/sync_problem:")


def no_store_notice() -> None:
    """The empty state of a warehouse without any store."""
    st.info(
        "No store yet. In Settings, an owner connects a store, imports an orders CSV, or builds the demo store "
        "to try the app.",
        icon=":material/storefront:",
    )
