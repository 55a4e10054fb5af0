"""Fraud rules: pure functions from facts to reasons (an empty list means "clear").

Thresholds live here and nowhere else, with the rule version recorded on every decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

RULES_VERSION = "fraud-2026.11"
# A unit price this far (as a fraction) from the platform's reference price is irregular.
PRICE_DEVIATION_LIMIT = Decimal("0.5")


@dataclass(frozen=True)
class PricedItem:
    platform: str
    item_id: str
    unit_price: Decimal


def duplicate_payment(payment_ids: list[str]) -> list[str]:
    distinct = list(dict.fromkeys(payment_ids))
    if len(distinct) > 1:
        return [f"duplicate payment: {len(distinct)} payments were recorded for this order"]
    return []


def irregular_price(item: PricedItem, reference: Decimal | None) -> list[str]:
    if reference is None or reference <= 0:
        return []
    deviation = abs(item.unit_price - reference) / reference
    if deviation > PRICE_DEVIATION_LIMIT:
        return [
            f"irregular price: {item.platform} item {item.item_id} at {item.unit_price} CNY is "
            f"{deviation:.0%} away from the reference price {reference} CNY"
        ]
    return []


def assess(payment_ids: list[str], items: list[PricedItem],
           references: dict[tuple[str, str], Decimal]) -> list[str]:
    reasons = duplicate_payment(payment_ids)
    for item in items:
        reasons += irregular_price(item, references.get((item.platform, item.item_id)))
    return reasons
