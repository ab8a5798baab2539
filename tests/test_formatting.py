from decimal import Decimal

import pytest

from analytics.formatting import format_count, format_money, format_percent


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (Decimal("1234.5"), "USD", "$1,234.50"),
        (Decimal("1234.5"), "JPY", "¥1,234"),  # half-even: 1234.5 -> 1234
        (Decimal("1235.5"), "JPY", "¥1,236"),
        (Decimal("1.2345"), "KWD", "KWD 1.234"),  # three minor digits, half-even
        (Decimal("-5"), "EUR", "−€5.00"),
        (Decimal("-3805.28"), "USD", "−$3,805.28"),
        (Decimal("0.005"), "USD", "$0.00"),
        (None, "USD", "–"),
    ],
    ids=["usd", "jpy-half-even-down", "jpy-half-even-up", "kwd-three-places", "negative", "negative-usd", "half-cent", "none"],
)
def test_format_money(amount, currency, text):
    assert format_money(amount, currency) == text


def test_counts_and_percentages():
    assert format_count(1234567) == "1,234,567"
    assert format_percent(Decimal("0.1234")) == "12.3%"
    assert format_percent(-0.05, signed=True) == "-5.0%"
    assert format_percent(None) == "–"
