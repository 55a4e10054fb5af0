"""Customs: is a declared value plausible, and what duty and tax a destination will likely charge
(versioned data, pure).

A declared value may sit at most `UNDER_DECLARATION_TOLERANCE` below what we paid the merchant
(converted at the published rates). Lower is refused with the reason, unless the customer made a
personalised declaration of that value and accepted the warning that goes with it. Duty and tax
estimates use each destination's de-minimis thresholds; they are estimates, shown with every quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CUSTOMS_VERSION = "customs-2026.11"
CARRIER_STATUSES = ("customs_hold", "customs_seized", "customs_released")  # what a carrier reports of customs
UNDER_DECLARATION_TOLERANCE = Decimal("0.20")
CENT = Decimal("0.01")
CNY_PER_UNIT = {"CNY": Decimal("1"), "USD": Decimal("7.10"), "EUR": Decimal("7.70"), "GBP": Decimal("9.00"),
                "AUD": Decimal("4.70"), "CAD": Decimal("5.20"), "JPY": Decimal("0.048")}
PERSONALISED_WARNING = ("a value below what was paid is your own declaration: customs may hold or seize the "
                        "parcel, charge duty on their own valuation and fine you; compensation does not cover that")


@dataclass(frozen=True)
class Destination:
    country: str
    currency: str
    duty_de_minimis: Decimal  # goods value (local currency) at or under which no duty is charged
    tax_de_minimis: Decimal  # ... and no import VAT/GST
    duty_rate: Decimal
    tax_rate: Decimal
    tax_name: str


DESTINATIONS = {d.country: d for d in (
    Destination("GB", "GBP", Decimal("135"), Decimal("0"), Decimal("0.04"), Decimal("0.20"), "VAT"),
    Destination("DE", "EUR", Decimal("150"), Decimal("0"), Decimal("0.04"), Decimal("0.19"), "VAT"),
    Destination("FR", "EUR", Decimal("150"), Decimal("0"), Decimal("0.04"), Decimal("0.20"), "VAT"),
    Destination("US", "USD", Decimal("0"), Decimal("0"), Decimal("0.10"), Decimal("0"), "sales tax"),
    Destination("AU", "AUD", Decimal("1000"), Decimal("0"), Decimal("0.05"), Decimal("0.10"), "GST"),
    Destination("CA", "CAD", Decimal("150"), Decimal("40"), Decimal("0.08"), Decimal("0.05"), "GST"),
    Destination("JP", "JPY", Decimal("10000"), Decimal("10000"), Decimal("0.05"), Decimal("0.10"), "consumption tax"),
)}


def to_cny(amount: Decimal, currency: str) -> Decimal:
    if currency not in CNY_PER_UNIT:
        raise ValueError(f"no published rate for {currency}; currencies: {', '.join(CNY_PER_UNIT)}")
    return amount * CNY_PER_UNIT[currency]


def from_cny(amount_cny: Decimal, currency: str) -> Decimal:
    return (amount_cny / CNY_PER_UNIT[currency]).quantize(CENT, ROUND_HALF_UP)


def under_declaration(code: str, paid_cny: Decimal, declared: Decimal, currency: str) -> str | None:
    """Why a declared value is implausibly low for what was paid; None when it is plausible."""
    floor_cny = paid_cny * (1 - UNDER_DECLARATION_TOLERANCE)
    if to_cny(declared, currency) >= floor_cny:
        return None
    least = (floor_cny / CNY_PER_UNIT[currency]).quantize(CENT, ROUND_CEILING)
    return (f"item {code} is declared at {declared} {currency} but was bought for {paid_cny} CNY: more than "
            f"{UNDER_DECLARATION_TOLERANCE:.0%} under the purchase price ({CUSTOMS_VERSION}); declare at least "
            f"{least} {currency}, or the customer must make a personalised declaration")


def estimate(country: str, goods_value_cny: Decimal) -> dict:
    """Likely duty and tax on arrival for goods worth `goods_value_cny`; unknown destinations say so."""
    destination = DESTINATIONS.get(country)
    if destination is None:
        return {"destination_country": country, "known": False, "table_version": CUSTOMS_VERSION,
                "note": "no duty table for this destination yet: the carrier collects what customs charges"}
    value = from_cny(goods_value_cny, destination.currency)
    duty = Decimal("0") if value <= destination.duty_de_minimis else value * destination.duty_rate
    tax = Decimal("0") if value <= destination.tax_de_minimis else (value + duty) * destination.tax_rate
    duty, tax = duty.quantize(CENT, ROUND_HALF_UP), tax.quantize(CENT, ROUND_HALF_UP)
    return {"destination_country": country, "known": True, "table_version": CUSTOMS_VERSION,
            "currency": destination.currency, "goods_value": str(value),
            "duty_de_minimis": str(destination.duty_de_minimis), "tax_de_minimis": str(destination.tax_de_minimis),
            "duty": str(duty), "tax": str(tax), "tax_name": destination.tax_name, "total": str(duty + tax),
            "total_cny": str((to_cny(duty + tax, destination.currency)).quantize(CENT, ROUND_HALF_UP)),
            "note": "an estimate: customs decide on arrival"}


def published_table() -> dict:
    return {"version": CUSTOMS_VERSION, "under_declaration_tolerance": str(UNDER_DECLARATION_TOLERANCE),
            "cny_per_unit": {k: str(v) for k, v in CNY_PER_UNIT.items()},
            "destinations": [{"country": d.country, "currency": d.currency,
                              "duty_de_minimis": str(d.duty_de_minimis), "tax_de_minimis": str(d.tax_de_minimis),
                              "duty_rate": str(d.duty_rate), "tax_rate": str(d.tax_rate), "tax_name": d.tax_name}
                             for d in DESTINATIONS.values()],
            "personalised_declaration_warning": PERSONALISED_WARNING}
