"""Quality inspection rules: what makes an item pass or fail at intake (pure).

An item fails when the count differs from what was bought, when its exterior is damaged, or when
its special inspection (high-risk categories) failed; every reason is listed. A high-risk item
cannot be judged at all before its special inspection is on record.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.common import HIGH_RISK_CATEGORIES
from contracts.warehouse import COUNTERFEIT
from service_runtime.errors import Conflict

RULES_VERSION = "qc-2026.11"
EXTERIOR_CONDITIONS = ("intact", "minor_damage", "damaged")
FAILING_EXTERIOR = ("damaged",)
MINIMUM_PHOTOS = 3


class SpecialInspectionMissing(Conflict):
    pass


@dataclass(frozen=True)
class Assessment:
    passed: bool
    issues: tuple[str, ...]


def needs_special_inspection(category: str) -> bool:
    return category in HIGH_RISK_CATEGORIES




def assess(category: str, quantity_expected: int, quantity_checked: int, exterior_condition: str,
           special_inspection_passed: bool | None, counterfeit: bool = False) -> Assessment:
    """`special_inspection_passed` is None when no special inspection was recorded."""
    if exterior_condition not in EXTERIOR_CONDITIONS:
        raise ValueError(f"unknown exterior condition {exterior_condition!r}")
    if needs_special_inspection(category) and special_inspection_passed is None:
        raise SpecialInspectionMissing(
            f"a {category.replace('_', ' ')} item needs a special-inspection record before it can pass "
            "quality inspection")
    issues = []
    if quantity_checked != quantity_expected:
        issues.append(f"quantity: {quantity_checked} counted, {quantity_expected} expected")
    if exterior_condition in FAILING_EXTERIOR:
        issues.append("exterior damaged")
    if special_inspection_passed is False:
        issues.append(f"special inspection for {category.replace('_', ' ')} items failed")
    if counterfeit:
        issues.append(COUNTERFEIT)  # zero tolerance: the item never ships and claims confirms it
    return Assessment(passed=not issues, issues=tuple(issues))
