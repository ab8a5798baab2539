"""Charts in the browser's theme (ui/charts.py), and the app's own favicon."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.app_support import ROOT
from ui import charts


def net_sales():
    days = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(3)]
    return charts.time_series(days, [Decimal("10.00"), Decimal("12.50"), Decimal("9.00")], title="Net sales",
                              label="Net sales", kind="money", currency="USD", grain="day")


@pytest.mark.parametrize("theme", [None, "light"], ids=["unknown", "light"])
def test_a_light_browser_gets_the_figure_itself(theme):
    fig = net_sales()
    assert charts.in_theme(fig, theme) is fig
    assert fig.layout.template.layout.paper_bgcolor == "white"
    assert fig.layout.template.layout.font.color == "#262730"


def test_a_dark_browser_gets_a_dark_copy_and_the_figure_stays_light_for_its_png():
    fig = net_sales()
    dark = charts.in_theme(fig, "dark")
    look = dark.layout.template.layout
    assert (look.paper_bgcolor, look.plot_bgcolor, look.font.color) == ("rgba(0,0,0,0)", "rgba(0,0,0,0)", "#FAFAFA")
    assert look.xaxis.gridcolor == "#31333F" and look.hoverlabel.bgcolor == "#262730"
    assert charts.BLACK not in look.colorway and charts.BLUE in look.colorway
    # The data, titles and axes are the figure's own; only the look changed.
    assert dark.data == fig.data and dark.layout.title.text == fig.layout.title.text
    assert dark.layout.yaxis.tickprefix == "$"
    assert fig.layout.template.layout.paper_bgcolor == "white"


def test_the_favicon_is_a_file_of_the_app():
    text = (ROOT / "app.py").read_text()
    assert 'page_icon=str(HERE / "ui" / "assets" / "favicon.png")' in text
    icon = (ROOT / "ui" / "assets" / "favicon.png").read_bytes()
    assert icon.startswith(b"\x89PNG\r\n\x1a\n")
