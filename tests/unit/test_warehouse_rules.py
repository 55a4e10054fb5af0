"""Quality and packing rules (pure): pass or fail with every reason; materials by category."""

import pytest

from service_runtime.errors import DomainError
from services.warehouse import packing, quality


def test_an_intact_item_with_the_right_count_passes():
    assert quality.assess("general", 2, 2, "intact", None) == quality.Assessment(passed=True, issues=())


def test_minor_damage_to_the_exterior_still_passes():
    assert quality.assess("general", 1, 1, "minor_damage", None).passed


def test_each_reason_to_fail_is_listed():
    result = quality.assess("fragile", 2, 1, "damaged", False)
    assert not result.passed
    assert result.issues == ("quantity: 1 counted, 2 expected", "exterior damaged",
                             "special inspection for fragile items failed")


@pytest.mark.parametrize("category", ["electronics", "precision_instrument", "luxury", "fragile"])
def test_a_high_risk_item_needs_its_special_inspection_first(category):
    with pytest.raises(quality.SpecialInspectionMissing, match="needs a special-inspection record") as refused:
        quality.assess(category, 1, 1, "intact", None)
    assert refused.value.status == 409
    assert quality.assess(category, 1, 1, "intact", True).passed


def test_an_ordinary_item_needs_no_special_inspection():
    assert not quality.needs_special_inspection("general")


def test_ordinary_goods_get_the_eco_friendly_defaults():
    plan = packing.plan_for(["general"])
    assert plan.materials == (packing.RECYCLED_CARTON, packing.PAPER_VOID_FILL)
    assert plan.cushioning == packing.STANDARD_CUSHIONING and plan.reinforcement_required == ()


def test_fragile_goods_get_reinforcement_and_extra_cushioning():
    plan = packing.plan_for(["general", "fragile"])
    assert {packing.DOUBLE_WALL_CARTON, packing.CORNER_PROTECTORS} <= set(plan.materials)
    assert packing.RECYCLED_CARTON not in plan.materials and packing.PAPER_VOID_FILL in plan.materials
    assert plan.cushioning == packing.EXTRA_CUSHIONING
    assert plan.reinforcement_required == packing.REINFORCEMENT


@pytest.mark.parametrize("category, material", [("electronics", packing.ANTI_STATIC_BAGS),
                                                ("precision_instrument", packing.FOAM_INSERTS),
                                                ("luxury", packing.TAMPER_EVIDENT_SEAL)])
def test_each_category_adds_what_protects_it(category, material):
    plan = packing.plan_for([category, category])
    assert plan.materials.count(material) == 1 and packing.RECYCLED_CARTON in plan.materials
    assert not plan.reinforcement_required


def test_packing_fragile_goods_without_reinforcement_names_what_is_missing():
    plan = packing.plan_for(["fragile"])
    with pytest.raises(DomainError, match="missing: corner protectors") as refused:
        packing.check_packing(plan, ["Double-Wall  Carton", "paper void fill"])
    assert refused.value.status == 422
    assert packing.check_packing(plan, list(plan.materials)) is True


def test_reinforcement_is_optional_for_ordinary_goods_and_reported():
    plan = packing.plan_for(["general"])
    assert packing.check_packing(plan, ["recycled carton"]) is False
    assert packing.check_packing(plan, ["double-wall carton", "corner protectors"]) is True
