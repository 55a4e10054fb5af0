"""Packing plans: materials and cushioning from the items' categories (pure).

Eco-friendly by default (recycled carton, paper void fill); each category adds what protects it.
Fragile goods must travel reinforced: packing them without the reinforcement is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from service_runtime.errors import DomainError

RULES_VERSION = "packing-2026.11"

RECYCLED_CARTON = "recycled carton"
PAPER_VOID_FILL = "paper void fill"
DOUBLE_WALL_CARTON = "double-wall carton"
CORNER_PROTECTORS = "corner protectors"
ANTI_STATIC_BAGS = "anti-static bags"
FOAM_INSERTS = "foam inserts"
TAMPER_EVIDENT_SEAL = "tamper-evident seal"

STANDARD_CUSHIONING = "recycled kraft paper cushioning"
EXTRA_CUSHIONING = "extra cushioning: 5 cm of recycled kraft paper on every side"

REINFORCEMENT = (DOUBLE_WALL_CARTON, CORNER_PROTECTORS)
# category -> (materials it adds, why)
BY_CATEGORY: dict[str, tuple[tuple[str, ...], str]] = {
    "fragile": (REINFORCEMENT, "fragile: reinforced carton, corner protectors and extra cushioning"),
    "electronics": ((ANTI_STATIC_BAGS,), "electronics: anti-static bags"),
    "precision_instrument": ((FOAM_INSERTS,), "precision instrument: foam inserts"),
    "luxury": ((TAMPER_EVIDENT_SEAL,), "luxury: tamper-evident seal"),
}
REINFORCED_CATEGORIES = ("fragile",)


class MissingReinforcement(DomainError):
    pass


@dataclass(frozen=True)
class PackingPlan:
    materials: tuple[str, ...]
    cushioning: str
    reinforcement_required: tuple[str, ...]
    reasons: tuple[str, ...]


def plan_for(categories: Iterable[str]) -> PackingPlan:
    present = sorted(set(categories))
    reinforced = any(c in REINFORCED_CATEGORIES for c in present)
    materials = [] if reinforced else [RECYCLED_CARTON]  # a double-wall carton replaces the plain one
    reasons = ["eco-friendly defaults: paper void fill, and a double-wall carton instead of the recycled one"
               if reinforced else "eco-friendly defaults: recycled carton and paper void fill"]
    for category in present:
        if category in BY_CATEGORY:
            added, why = BY_CATEGORY[category]
            materials += [m for m in added if m not in materials]
            reasons.append(why)
    materials.append(PAPER_VOID_FILL)
    return PackingPlan(materials=tuple(materials), cushioning=EXTRA_CUSHIONING if reinforced else STANDARD_CUSHIONING,
                       reinforcement_required=REINFORCEMENT if reinforced else (), reasons=tuple(reasons))


def _canonical(material: str) -> str:
    return " ".join(material.lower().split())


def missing_reinforcement(plan: PackingPlan, materials: Iterable[str]) -> list[str]:
    used = {_canonical(m) for m in materials}
    return [m for m in plan.reinforcement_required if _canonical(m) not in used]


def uses_reinforcement(materials: Iterable[str]) -> bool:
    used = {_canonical(m) for m in materials}
    return all(m in used for m in REINFORCEMENT)


def check_packing(plan: PackingPlan, materials: Iterable[str]) -> bool:
    """Refuse packing without the plan's reinforcement; returns whether reinforcement was used."""
    materials = list(materials)
    missing = missing_reinforcement(plan, materials)
    if missing:
        raise MissingReinforcement(
            f"this parcel holds a fragile item and must be reinforced; missing: {', '.join(missing)}")
    return uses_reinforcement(materials)
