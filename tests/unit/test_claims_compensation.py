"""The compensation policy: rules as versioned data, one pure function, numbers checked by hand."""

from decimal import Decimal

import pytest

from service_runtime.errors import Conflict
from services.claims import compensation
from services.claims.compensation import RULE_BOOK, RULES_VERSION, evaluate

OLD = "compensation-2026.11"
VASE = {"traceability_code": "KF-VASE", "item_value": "268.00", "parcel_value": "386.00"}
SHIRT = {"traceability_code": "KF-SHIRT", "item_value": "118.00", "parcel_value": "386.00"}
FEE = {"shipping_fee": "95.00"}


def facts(kind, approved=True, **extra):
    return {"kind": kind, "approved": "true" if approved else "false", **extra}


def test_every_version_stays_in_the_book_and_the_current_one_is_named():
    assert RULES_VERSION in RULE_BOOK and OLD in RULE_BOOK
    assert compensation.published_rules()["current_version"] == RULES_VERSION


@pytest.mark.parametrize("version", [OLD, RULES_VERSION])
@pytest.mark.parametrize("kind, item, amount, rule", [
    ("damaged", VASE, "268.00", "damaged_item_full_value"),
    # 95.00 × 118 / 386 = 29.0414… → 29.04
    ("missing_item", SHIRT, "147.04", "missing_item_value_plus_shipping_share"),
    ("wrong_item", SHIRT, "118.00", "wrong_item_full_value"),
    ("shipping_anomaly", {}, "47.50", "shipping_anomaly_half_fee"),
])
def test_after_delivery_kinds_keep_their_amounts_in_every_version(version, kind, item, amount, rule):
    decided = evaluate(version, facts(kind, insured="false", **item, **FEE))
    assert (decided.amount, decided.rule, decided.rule_version) == (Decimal(amount), rule, version)
    assert amount in decided.explanation_en and amount in decided.explanation_zh


def test_a_missing_item_records_its_shipping_share_and_rounds_half_up():
    decided = evaluate(RULES_VERSION, facts("missing_item", traceability_code="KF-1", item_value="1.00",
                                            parcel_value="8.00", shipping_fee="0.20"))
    # 0.20 × 1 / 8 = 0.025 → 0.03 (half-even would give 0.02)
    assert decided.inputs["shipping_share"] == "0.03" and decided.amount == Decimal("1.03")


def test_an_insured_lost_parcel_pays_the_insured_value_plus_freight_up_to_the_cap():
    decided = evaluate(RULES_VERSION, facts("lost", insured="true", insured_value="1200.00", **FEE))
    assert decided.amount == Decimal("1295.00") and decided.rule == "lost_insured_value_plus_freight"
    capped = evaluate(RULES_VERSION, facts("lost", insured="true", insured_value="9990.00", **FEE))
    assert capped.amount == Decimal("10000.00")
    assert "1295.00" in decided.explanation_en and "1295.00" in decided.explanation_zh


def test_an_uninsured_lost_parcel_pays_the_route_standard_per_kg_capped():
    decided = evaluate(RULES_VERSION, facts("lost", insured="false", line_code="economy-air",
                                            chargeable_weight_kg="2.5", **FEE))
    assert decided.amount == Decimal("100.00")  # 40.00 × 2.5
    heavy = evaluate(RULES_VERSION, facts("lost", insured="false", line_code="economy-air",
                                          chargeable_weight_kg="30", **FEE))
    assert heavy.amount == Decimal("400.00")  # capped


def test_an_uninsured_seizure_pays_the_published_share_of_the_route_standard():
    decided = evaluate(RULES_VERSION, facts("seized", insured="false", line_code="express",
                                            chargeable_weight_kg="3.0", **FEE))
    assert decided.amount == Decimal("120.00")  # 80.00 × 3.0 × 50%
    assert decided.rule == "seized_route_standard" and "50%" in decided.explanation_en


def test_the_automatic_guarantees_have_their_rules():
    assert evaluate(RULES_VERSION, facts("purchase_late", service_fee="19.90")).amount == Decimal("19.90")
    assert evaluate(RULES_VERSION, facts("delayed", **FEE)).amount == Decimal("28.50")  # 30%


def test_a_rejected_claim_gets_nothing_and_says_so_in_both_languages():
    decided = evaluate(RULES_VERSION, facts("damaged", approved=False, **VASE))
    assert (decided.amount, decided.rule) == (Decimal("0.00"), "rejected")
    assert decided.explanation_en and decided.explanation_zh


def test_rules_that_need_a_fact_wait_for_it():
    with pytest.raises(Conflict):
        evaluate(RULES_VERSION, facts("shipping_anomaly"))
    with pytest.raises(Conflict):
        evaluate(RULES_VERSION, facts("lost", insured="false", **FEE))  # no line yet


def test_re_evaluating_recorded_inputs_gives_the_same_decision():
    decided = evaluate(RULES_VERSION, facts("missing_item", **SHIRT, **FEE))
    assert evaluate(decided.rule_version, decided.inputs) == decided


def test_amounts_are_cents():
    assert compensation.money(Decimal("1.005")) == Decimal("1.01")
