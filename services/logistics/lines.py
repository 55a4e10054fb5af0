"""The international shipping lines and what each charges and refuses (pure).

A line charges by chargeable weight: the greater of the actual weight and the volumetric weight
(L×W×H / the line's divisor), rounded up to the next half kilo. Each line refuses some kinds of
goods (an airline will not fly loose lithium batteries on a postal service, say); a parcel holding
any of them gets the reason instead of a price. The table's version goes with every choice, so
an old price can always be explained.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Protocol, Sequence

LINES_VERSION = "lines-2026.11"
CENT = Decimal("0.01")
HALF_KILO = Decimal("0.5")

# Why a line refuses a category, in the words the customer reads.
RESTRICTION_REASONS = {
    "electronics": "lithium batteries are not accepted",
    "luxury": "high-value goods are not covered",
    "precision_instrument": "shock-sensitive instruments are not accepted",
    "fragile": "breakables are not accepted",
}


@dataclass(frozen=True)
class ShippingLine:
    code: str
    name: str
    volumetric_divisor: int  # cm³ per kg
    rate_per_kg: Decimal  # CNY
    minimum_charge: Decimal  # CNY
    transit_days_min: int
    transit_days_max: int
    restricted_categories: tuple[str, ...] = ()


LINES = (
    ShippingLine("economy-air", "Economy Air Mail", 6000, Decimal("62.00"), Decimal("45.00"), 10, 20,
                 ("electronics", "luxury")),
    ShippingLine("sensitive-air", "Air Special Line (battery-cleared)", 6000, Decimal("86.00"), Decimal("60.00"),
                 8, 15, ("luxury",)),
    ShippingLine("express", "Express Courier", 5000, Decimal("128.00"), Decimal("150.00"), 3, 6,
                 ("precision_instrument",)),
    ShippingLine("sea-freight", "Sea Freight", 8000, Decimal("18.00"), Decimal("180.00"), 35, 55),
)


class Parcel(Protocol):
    """What a quote needs to know about a packed parcel (the Shipment aggregate has it)."""

    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal
    items: Sequence[dict]  # each with traceability_code, sku and category


@dataclass(frozen=True)
class LineQuote:
    line: ShippingLine
    chargeable_weight_kg: Decimal | None
    price: Decimal | None
    reason: str | None  # set when the line refuses the parcel

    @property
    def refused(self) -> bool:
        return self.reason is not None


def line_by_code(code: str) -> ShippingLine | None:
    return next((line for line in LINES if line.code == code), None)


def chargeable_weight(parcel: Parcel, line: ShippingLine) -> Decimal:
    volumetric = (Decimal(parcel.length_cm) * Decimal(parcel.width_cm) * Decimal(parcel.height_cm)
                  / line.volumetric_divisor)
    heavier = max(Decimal(parcel.weight_kg), volumetric, HALF_KILO)
    halves = (heavier / HALF_KILO).to_integral_value(rounding=ROUND_CEILING)
    return (halves * HALF_KILO).quantize(Decimal("0.1"))


def price(chargeable_kg: Decimal, line: ShippingLine) -> Decimal:
    return max(line.minimum_charge, chargeable_kg * line.rate_per_kg).quantize(CENT, rounding=ROUND_HALF_UP)


def refusal(parcel: Parcel, line: ShippingLine) -> str | None:
    """Why the line will not carry the parcel, naming every restricted item; None if it will."""
    problems = []
    for category in line.restricted_categories:
        found = [item for item in parcel.items if item["category"] == category]
        if found:
            named = ", ".join(f"{item['traceability_code']} ({item['sku']})" for item in found)
            problems.append(f"{category} ({RESTRICTION_REASONS[category]}): {named}")
    if not problems:
        return None
    return f"{line.name} refuses {'; '.join(problems)}"


def quote(parcel: Parcel) -> list[LineQuote]:
    """Every line, each with its price for this parcel or the reason it refuses it."""
    quotes = []
    for line in LINES:
        reason = refusal(parcel, line)
        if reason is not None:
            quotes.append(LineQuote(line, None, None, reason))
        else:
            weight = chargeable_weight(parcel, line)
            quotes.append(LineQuote(line, weight, price(weight, line), None))
    return quotes
