from decimal import Decimal

import pytest

from services.orders.pricing import PricedLine, UnsupportedDestination, quote


def test_quote_lines_add_up_to_total_and_show_every_fee():
    q = quote([PricedLine(2, Decimal("99.50")), PricedLine(1, Decimal("15.00"))], "GB")
    codes = [line["code"] for line in q["lines"]]
    assert codes == ["items", "domestic_shipping", "service_fee", "international_shipping_estimate", "taxes"]
    assert sum(line["amount"] for line in q["lines"]) == q["total"]
    amounts = {line["code"]: line["amount"] for line in q["lines"]}
    assert amounts["items"] == Decimal("214.00")
    assert amounts["domestic_shipping"] == Decimal("16.00")  # two lines
    assert amounts["service_fee"] == Decimal("10.70")  # 5% of items
    # International shipping is an estimate (1.5 kg at 60/kg), shown but not charged with the goods:
    # the chosen line's price is paid once, at shipping, so the customer never pays for it twice.
    estimate = next(line for line in q["lines"] if line["code"] == "international_shipping_estimate")
    assert estimate["amount"] == Decimal("0.00") and "about 90.00 CNY" in estimate["label"]
    assert "not charged now" in estimate["label"]
    assert amounts["taxes"] == Decimal("42.80")  # 20% of the goods
    assert q["currency"] == "CNY" and q["rules_version"]


def test_service_fee_has_a_minimum():
    q = quote([PricedLine(1, Decimal("20.00"))], "US")
    assert {l["code"]: l["amount"] for l in q["lines"]}["service_fee"] == Decimal("10.00")


def test_unsupported_destination_lists_supported_ones():
    with pytest.raises(UnsupportedDestination, match="GB"):
        quote([PricedLine(1, Decimal("1"))], "ZZ")
