"""Shipping lines: chargeable weight, price and the goods each line refuses (pure)."""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from services.logistics.lines import LINES, chargeable_weight, line_by_code, price, quote


@dataclass
class Box:
    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal
    items: list = field(default_factory=lambda: [item("KF-1", "general")])


def item(code: str, category: str, sku: str = "thing") -> dict:
    return {"traceability_code": code, "sku": sku, "category": category}


def offers(box: Box) -> dict:
    return {offer.line.code: offer for offer in quote(box)}


ECONOMY, EXPRESS, SEA = line_by_code("economy-air"), line_by_code("express"), line_by_code("sea-freight")


def test_a_bulky_light_parcel_is_charged_by_volume():
    box = Box(Decimal("2.4"), Decimal("40"), Decimal("30"), Decimal("20"))  # 24000 cm³
    assert chargeable_weight(box, ECONOMY) == Decimal("4.0")  # /6000
    assert chargeable_weight(box, EXPRESS) == Decimal("5.0")  # /5000 = 4.8, up to the next half kilo
    assert chargeable_weight(box, SEA) == Decimal("3.0")  # /8000


def test_a_dense_parcel_is_charged_by_actual_weight_rounded_up_to_half_a_kilo():
    box = Box(Decimal("7.01"), Decimal("20"), Decimal("20"), Decimal("10"))
    assert chargeable_weight(box, ECONOMY) == Decimal("7.5")
    assert chargeable_weight(Box(Decimal("7.5"), Decimal("1"), Decimal("1"), Decimal("1")), ECONOMY) == Decimal("7.5")


def test_price_is_rate_times_chargeable_weight_but_never_below_the_minimum():
    assert price(Decimal("4.0"), ECONOMY) == Decimal("248.00")
    assert price(Decimal("3.0"), SEA) == SEA.minimum_charge
    assert price(Decimal("0.5"), ECONOMY).as_tuple().exponent == -2


def test_quote_prices_every_line_for_ordinary_goods():
    quoted = quote(Box(Decimal("2.4"), Decimal("40"), Decimal("30"), Decimal("20")))
    assert [offer.line.code for offer in quoted] == [line.code for line in LINES]
    assert all(not offer.refused and offer.price > 0 for offer in quoted)
    assert {o.line.code: o.price for o in quoted}["express"] == Decimal("640.00")


def test_restricted_goods_are_refused_with_the_items_and_category_named():
    box = Box(Decimal("1"), Decimal("10"), Decimal("10"), Decimal("10"),
              [item("KF-PHONE", "electronics", "phone 128GB"), item("KF-SHIRT", "general")])
    by_code = offers(box)
    refused = by_code["economy-air"]
    assert refused.refused and refused.price is None
    assert "electronics" in refused.reason and "KF-PHONE" in refused.reason and "phone 128GB" in refused.reason
    assert "KF-SHIRT" not in refused.reason
    assert not by_code["sensitive-air"].refused and not by_code["express"].refused


def test_each_line_refuses_its_own_categories_and_sea_refuses_nothing():
    box = Box(Decimal("3"), Decimal("30"), Decimal("30"), Decimal("30"),
              [item("KF-WATCH", "luxury"), item("KF-SCOPE", "precision_instrument"), item("KF-VASE", "fragile")])
    by_code = offers(box)
    assert "luxury" in by_code["economy-air"].reason and "KF-WATCH" in by_code["economy-air"].reason
    assert "luxury" in by_code["sensitive-air"].reason
    assert "precision_instrument" in by_code["express"].reason and "KF-SCOPE" in by_code["express"].reason
    assert not by_code["sea-freight"].refused
    assert SEA.restricted_categories == ()


@pytest.mark.parametrize("line", LINES, ids=lambda line: line.code)
def test_lines_are_described_completely(line):
    assert line.volumetric_divisor in (5000, 6000, 8000)
    assert 0 < line.transit_days_min <= line.transit_days_max
    assert line.rate_per_kg > 0 and line.minimum_charge > 0
