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


# ISO 4217 minor units of the codes where the import and the display used to disagree, and a few others.
ISO_CASES = [("ISK", 0), ("UYI", 0), ("IQD", 3), ("LYD", 3), ("JPY", 0), ("KWD", 3), ("MGA", 2), ("CLF", 4),
             ("USD", 2), ("usd", 2), ("XAU", 2)]


@pytest.mark.parametrize(("currency", "digits"), ISO_CASES, ids=[c for c, _ in ISO_CASES])
def test_import_and_display_read_one_minor_unit_table(currency, digits):
    from connectors.csv_import.cells import minor_unit as import_step
    from data.currencies import minor_unit_digits

    assert minor_unit_digits(currency) == digits
    # The import rounds a split discount to the minor unit, in ten-thousandths: 1 ISK = 10,000, 0.001 LYD = 10.
    assert import_step(currency.upper()) == 10 ** (4 - digits)
    shown = format_money(Decimal("1234.56789"), currency)
    decimals = shown.rsplit(".", 1)[1] if "." in shown else ""
    assert len(decimals) == digits


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (Decimal("1500.4"), "ISK", "ISK 1,500"), (Decimal("12.3456"), "IQD", "IQD 12.346"),
    (Decimal("0.0005"), "LYD", "LYD 0.000"), (Decimal("99.5"), "UYI", "UYI 100"),
], ids=["isk-whole", "iqd-three", "lyd-half-even", "uyi-whole"])
def test_those_currencies_are_written_with_their_minor_unit(amount, currency, text):
    assert format_money(amount, currency) == text
