"""The published compensation rules, with numbers (pure)."""

from decimal import Decimal

import pytest

from service_runtime.errors import Conflict
from services.claims import compensation
from services.claims.compensation import (
    RULES_VERSION,
    compensation_for,
    damaged_item,
    missing_item,
    rejected,
    shipping_anomaly,
    wrong_item,
)

VALUES = {"KF-VASE": Decimal("268.00"), "KF-SHIRT": Decimal("118.00")}  # parcel value 386.00
FEE = Decimal("95.00")


def test_rules_have_a_version():
    assert RULES_VERSION.startswith("compensation-")


def test_damaged_item_is_its_full_value():
    assert damaged_item("KF-VASE", Decimal("268.00")) == (
        Decimal("268.00"), "damaged_item_full_value", {"traceability_code": "KF-VASE", "item_value": "268.00"})


def test_missing_item_is_its_value_plus_its_share_of_shipping_by_value():
    amount, rule, inputs = missing_item("KF-SHIRT", Decimal("118.00"), Decimal("386.00"), FEE)
    # 95.00 × 118 / 386 = 29.0414… → 29.04
    assert amount == Decimal("147.04") and rule == "missing_item_value_plus_shipping_share"
    assert inputs == {"traceability_code": "KF-SHIRT", "item_value": "118.00", "parcel_value": "386.00",
                      "shipping_fee": "95.00", "shipping_share": "29.04"}


def test_the_only_item_missing_gets_the_whole_shipping_fee():
    assert missing_item("KF-1", Decimal("50.00"), Decimal("50.00"), Decimal("30.00")).amount == Decimal("80.00")


def test_shipping_share_rounds_half_up():
    # 0.20 × 1 / 8 = 0.025 → 0.03 (half-even would give 0.02)
    amount, _, inputs = missing_item("KF-1", Decimal("1.00"), Decimal("8.00"), Decimal("0.20"))
    assert inputs["shipping_share"] == "0.03" and amount == Decimal("1.03")


def test_wrong_item_is_its_full_value():
    amount, rule, inputs = wrong_item("KF-SHIRT", Decimal("118.00"))
    assert (amount, rule, inputs["item_value"]) == (Decimal("118.00"), "wrong_item_full_value", "118.00")


def test_shipping_anomaly_is_half_the_shipping_fee():
    assert shipping_anomaly(FEE) == (Decimal("47.50"), "shipping_anomaly_half_fee",
                                     {"shipping_fee": "95.00", "rate": "0.50"})


def test_shipping_anomaly_rounds_half_up():
    assert shipping_anomaly(Decimal("95.25")).amount == Decimal("47.63")  # 47.625


def test_a_rejected_claim_gets_nothing():
    assert rejected("damaged") == (Decimal("0.00"), "rejected", {"kind": "damaged"})


@pytest.mark.parametrize("kind, code, amount, rule", [
    ("damaged", "KF-VASE", "268.00", "damaged_item_full_value"),
    ("missing_item", "KF-SHIRT", "147.04", "missing_item_value_plus_shipping_share"),
    ("wrong_item", "KF-SHIRT", "118.00", "wrong_item_full_value"),
    ("shipping_anomaly", None, "47.50", "shipping_anomaly_half_fee"),
])
def test_each_kind_of_approved_claim_has_its_rule(kind, code, amount, rule):
    decided = compensation_for(kind, True, code, VALUES, FEE)
    assert (decided.amount, decided.rule) == (Decimal(amount), rule)


@pytest.mark.parametrize("kind", ["damaged", "missing_item", "wrong_item", "shipping_anomaly"])
def test_every_rejected_claim_gets_nothing(kind):
    code = None if kind == "shipping_anomaly" else "KF-VASE"
    assert compensation_for(kind, False, code, VALUES, FEE) == rejected(kind)


def test_rules_that_need_the_shipping_fee_wait_for_it():
    with pytest.raises(Conflict):
        compensation_for("shipping_anomaly", True, None, VALUES, None)
    with pytest.raises(Conflict):
        compensation_for("missing_item", True, "KF-SHIRT", VALUES, None)
    assert compensation_for("damaged", True, "KF-VASE", VALUES, None).amount == Decimal("268.00")


def test_amounts_are_cents():
    assert compensation.money(Decimal("1.005")) == Decimal("1.01")
