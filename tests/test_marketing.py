"""The marketing figures on the store of ``tests/marketing_store.py``, worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from analytics.marketing.channels import platform_of, visit_channel
from analytics.marketing.figures import (
    MARKETING_DEFINITIONS,
    campaign_table,
    channel_table,
    daily_by_channel,
    marketing_over_time,
    marketing_summary,
    traffic_table,
)
from analytics.marketing.sources import daily_sessions, sessions_source
from analytics.marketing.spend import daily_spend
from tests.marketing_store import build_marketing_store
from tests.sales_store import END, START

D = Decimal


def test_the_headline_figures(wh):
    build_marketing_store(wh)
    figures = marketing_summary(wh, "s", START, END)
    # Sessions w1–w5; online-store orders o1 and o3: 2 ÷ 5.
    assert (figures["sessions"], figures["orders"], figures["conversion_rate"]) == (5, 2, D("0.4"))
    # Spend 30.00 + 12.50 + 5.00; the GBP row is left out and counted.
    assert (figures["ad_spend"], figures["left_out_other_currency"]) == (D("47.5"), 1)
    # Paid visits bought o1 (85.00) and o3 (120.00): 205 ÷ 47.50 = 4.3158; MER 232.50 ÷ 47.50 = 4.8947.
    assert (figures["attributed_revenue"], figures["blended_roas"], figures["mer"]) == (
        D("205"), D("4.3158"), D("4.8947"))
    # New customers c1 (o1, 85.00) and c2 (o2, 25.00): CAC 47.50 ÷ 2; ROAS 110 ÷ 47.50.
    assert (figures["new_customers"], figures["new_customer_revenue"], figures["new_customer_cac"],
            figures["new_customer_roas"]) == (2, D("110"), D("23.75"), D("2.3158"))
    # Contribution margin: 232.50 − 100.00 − 19.15 − 47.50.
    assert figures["margin_after_ad_spend"] == D("65.85")


def test_a_store_without_sessions_or_spend_gives_no_ratios(wh):
    from tests.sales_store import build_sales_store

    build_sales_store(wh, ads=False)
    figures = marketing_summary(wh, "s", START, END)
    assert sessions_source(wh, "s") is None
    assert (figures["sessions"], figures["conversion_rate"], figures["ad_spend"], figures["blended_roas"],
            figures["mer"], figures["new_customer_cac"], figures["new_customer_roas"]) == (
        0, None, D(0), None, None, D(0), None)


def test_channels(wh):
    build_marketing_store(wh)
    table = {r["channel"]: r for r in channel_table(wh, "s", START, END).iter_rows(named=True)}
    assert list(table) == ["google", "meta", "tiktok", "(unknown)", "direct", "organic search"]
    google, meta, tiktok = table["google"], table["meta"], table["tiktok"]
    # google: spend 30.00, paid sessions w1 and w5, bought o1 (85.00, c1's first): ROAS 85 ÷ 30.
    assert (google["ad_spend"], google["sessions"], google["orders"], google["conversion_rate"],
            google["revenue"], google["roas"], google["new_customers"], google["new_customer_cac"]) == (
        D("30"), 2, 1, 0.5, D("85"), pytest.approx(2.8333), 1, D("30"))
    # meta (facebook / paid_social): 12.50, w2 bought o3 (120.00, not a first order): ROAS 9.6, no CAC.
    assert (meta["ad_spend"], meta["sessions"], meta["orders"], meta["roas"], meta["new_customers"],
            meta["new_customer_cac"]) == (D("12.5"), 1, 1, 9.6, 0, None)
    # tiktok: spend and nothing for it.
    assert (tiktok["ad_spend"], tiktok["sessions"], tiktok["orders"], tiktok["roas"]) == (D("5"), 0, 0, 0.0)
    # o2 (pos) and o4 had no visit; the organic and direct sessions have no spend and no ROAS.
    assert (table["(unknown)"]["orders"], table["(unknown)"]["revenue"]) == (2, D("50"))
    assert (table["direct"]["sessions"], table["direct"]["roas"], table["organic search"]["sessions"]) == (1, None, 1)


def test_campaigns_without_a_campaign_on_the_visits(wh):
    build_marketing_store(wh)
    table = campaign_table(wh, "s", START, END)
    assert table.select("channel", "campaign", "ad_spend").rows() == [
        ("google", "Search", D("30")), ("meta", "Catalog", D("12.5")), ("tiktok", "Spark", D("5"))]
    # Visits read from the store's own sessions carry no campaign: orders and ROAS are not known.
    assert table["roas"].null_count() == 3 and table["orders"].null_count() == 3


def test_over_time_and_daily_by_channel(wh):
    build_marketing_store(wh)
    days = {r["period"]: r for r in marketing_over_time(wh, "s", START, END).iter_rows(named=True)}
    assert len(days) == 6
    # 2 Mar: w1 and w3, o1 online; google spend 30.00; o1's 85.00 paid; net sales 85.00.
    assert {k: days[dt.date(2026, 3, 2)][k] for k in ("sessions", "orders", "conversion_rate", "ad_spend",
                                                      "attributed_revenue", "net_sales", "blended_roas", "mer")} == {
        "sessions": 2, "orders": 1, "conversion_rate": 0.5, "ad_spend": D("30"), "attributed_revenue": D("85"),
        "net_sales": D("85"), "blended_roas": pytest.approx(2.8333), "mer": pytest.approx(2.8333)}
    # 5 Mar: the refund (−22.50 net) and w5, no spend: no ratios.
    assert (days[dt.date(2026, 3, 5)]["net_sales"], days[dt.date(2026, 3, 5)]["mer"]) == (D("-22.5"), None)
    weeks = marketing_over_time(wh, "s", START, END, "week")
    # Sunday 1 Mar is in the week of Mon 23 Feb; 2–6 Mar in the week of 2 Mar.
    assert weeks.select("period", "sessions", "ad_spend").rows() == [
        (dt.date(2026, 2, 23), 0, D("5")), (dt.date(2026, 3, 2), 5, D("42.5"))]
    daily = daily_by_channel(wh, "s", START, END)
    assert daily.filter(pl.col("date") == dt.date(2026, 3, 2)).select(
        "channel", "sessions", "orders", "conversion_rate", "spend", "revenue", "roas").rows() == [
        ("google", 1, 1, 1.0, D("30"), D("85"), pytest.approx(2.8333)),
        ("organic search", 1, 0, 0.0, D("0"), D("0"), None)]


def test_traffic_by_source_and_device(wh):
    build_marketing_store(wh)
    by_source = traffic_table(wh, "s", START, END, "source")
    assert by_source.rows()[0] == ("google / cpc", 2, 1, 1, 1, 0.5)
    devices = {r[0]: r[1:] for r in traffic_table(wh, "s", START, END, "device").rows()}
    # mobile: w1 (bought), w3; desktop: w2 (bought), w4 (cart), w5.
    assert devices == {"desktop": (3, 2, 1, 1, 0.3333), "mobile": (2, 1, 1, 1, 0.5)}
    with pytest.raises(ValueError, match="breaks down by"):
        traffic_table(wh, "s", START, END, "country")


def test_sessions_come_from_the_daily_traffic_when_the_store_has_some(wh):
    build_marketing_store(wh)
    if "daily_traffic" not in wh.table_names():
        wh.execute("""CREATE TABLE daily_traffic (
            store_id TEXT NOT NULL, date DATE NOT NULL, source TEXT NOT NULL, medium TEXT NOT NULL,
            campaign TEXT NOT NULL, device TEXT NOT NULL, sessions BIGINT NOT NULL,
            engaged_sessions BIGINT NOT NULL, add_to_carts BIGINT NOT NULL, checkouts BIGINT NOT NULL,
            purchases BIGINT NOT NULL, purchase_revenue DECIMAL(18,4) NOT NULL, currency TEXT NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL)""")
    wh.execute("""INSERT INTO daily_traffic VALUES
        ('s', DATE '2026-03-02', 'google', 'cpc', 'Search', 'mobile', 40, 30, 6, 3, 2, 150.00, 'USD', NOW()),
        ('s', DATE '2026-03-03', 'facebook', 'paid_social', 'Catalog', 'desktop', 10, 5, 1, 1, 0, 0, 'USD', NOW()),
        ('x', DATE '2026-03-03', 'google', 'cpc', 'Search', 'mobile', 99, 9, 9, 9, 9, 9, 'USD', NOW())""")
    assert sessions_source(wh, "s") == "daily_traffic"
    assert int(daily_sessions(wh, "s", START, END)["sessions"].sum()) == 50
    # Orders o1 and o3 over 50 sessions.
    assert marketing_summary(wh, "s", START, END)["conversion_rate"] == D("0.04")


def test_spend_under_two_spellings_of_a_platform_is_one_channel(wh):
    build_marketing_store(wh)
    wh.execute("INSERT INTO ad_spend (store_id, spend_date, platform, campaign, spend, currency) "
               "VALUES ('s', DATE '2026-03-02', 'Google Ads', 'Search', 2.25, 'USD')")
    spend, left_out = daily_spend(wh, "s", START, END)
    assert spend.filter(pl.col("date") == dt.date(2026, 3, 2)).select("channel", "campaign", "spend").rows() == [
        ("google", "Search", D("32.25"))]
    assert left_out == 1


@pytest.mark.parametrize("source, medium, channel", [
    pytest.param("google", "cpc", "google", id="google-ads"),
    pytest.param("instagram", "paid_social", "meta", id="instagram-is-meta"),
    pytest.param("bing", "ppc", "microsoft", id="bing"),
    pytest.param("newsletter", "email", "email", id="email"),
    pytest.param("google", "organic", "organic search", id="organic"),
    pytest.param("(direct)", "(none)", "direct", id="direct"),
    pytest.param("pinterest", "social", "organic social", id="organic-social"),
    pytest.param("blog.example", "referral", "referral", id="referral"),
    pytest.param(None, None, "(unknown)", id="unknown"),
    pytest.param("partner", "affiliate", "other", id="other"),
])
def test_visit_channels(source, medium, channel):
    assert visit_channel(source, medium) == channel


def test_platform_spellings():
    assert [platform_of(p) for p in ("Facebook Ads", "meta", "TikTok", "Snap", "Acme Ads")] == [
        "meta", "meta", "tiktok", "snapchat", "acme ads"]


def test_every_marketing_figure_is_documented():
    import pathlib

    text = pathlib.Path("docs/METRICS.md").read_text()
    for name in MARKETING_DEFINITIONS:
        assert f"`{name}`" in text, name


def test_an_orders_own_attribution_comes_before_the_sessions(wh):
    build_marketing_store(wh)
    # o1's platform says it came from the Search campaign; o2 (pos, no session) from a TikTok ad.
    wh.execute("UPDATE orders SET last_visit_source = 'google', last_visit_medium = 'cpc', "
               "last_visit_campaign = 'Search' WHERE order_id = 'o1'")
    wh.execute("UPDATE orders SET last_visit_source = 'tiktok', last_visit_medium = 'paid_social', "
               "last_visit_campaign = 'Spark' WHERE order_id = 'o2'")
    campaigns = {(r["channel"], r["campaign"]): r for r in campaign_table(wh, "s", START, END).iter_rows(named=True)}
    # Search: o1's 85.00 against 30.00; Spark: o2's 25.00 (c2's first order) against 5.00; Catalog: none of its own.
    assert (campaigns[("google", "Search")]["orders"], campaigns[("google", "Search")]["revenue"],
            campaigns[("google", "Search")]["roas"]) == (1, D("85"), pytest.approx(2.8333))
    assert (campaigns[("tiktok", "Spark")]["roas"], campaigns[("tiktok", "Spark")]["new_customer_cac"]) == (
        5.0, D("5"))
    assert (campaigns[("meta", "Catalog")]["orders"], campaigns[("meta", "Catalog")]["roas"]) == (0, 0.0)
    # Blended ROAS now counts o2 too: (85 + 120 + 25) ÷ 47.50.
    assert marketing_summary(wh, "s", START, END)["blended_roas"] == D("4.8421")


def test_spend_in_another_currency_is_converted_at_its_days_rate(wh):
    build_marketing_store(wh)
    # ECB rates on 3 March: 1 EUR = 1.08 USD = 0.85 GBP.
    wh.execute("INSERT INTO fx_rates (rate_date, base_currency, quote_currency, rate) VALUES "
               "(DATE '2026-03-03', 'EUR', 'USD', 1.08), (DATE '2026-03-03', 'EUR', 'GBP', 0.85)")
    spend, left_out = daily_spend(wh, "s", START, END)
    # 4.00 GBP × 1.08 ÷ 0.85 = 5.0824 USD.
    assert spend.filter(pl.col("campaign") == "Shopping").select("date", "channel", "spend").rows() == [
        (dt.date(2026, 3, 3), "google", D("5.0824"))]
    assert left_out == 0
    assert marketing_summary(wh, "s", START, END)["ad_spend"] == D("52.5824")
