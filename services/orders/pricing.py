"""The price the customer sees before paying: every fee on its own line (pure).

No hidden fees: the quote's lines add up to its total, and the rule version is recorded with
every order so an old quote can always be explained.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from service_runtime.errors import DomainError

RULES_VERSION = "pricing-2026.12"  # .12: international shipping is estimated here, paid once at shipping
CENT = Decimal("0.01")

DOMESTIC_SHIPPING_PER_LINE = Decimal("8.00")  # merchant to our warehouse in China
SERVICE_FEE_RATE = Decimal("0.05")
SERVICE_FEE_MINIMUM = Decimal("10.00")
INTERNATIONAL_RATE_PER_KG = Decimal("60.00")
MINIMUM_CHARGEABLE_KG = Decimal("0.5")
DEFAULT_UNIT_WEIGHT_KG = Decimal("0.5")

# Import VAT / GST / sales tax charged on goods plus shipping, by destination country.
TAX_RATES = {
    "AU": Decimal("0.10"), "CA": Decimal("0.05"), "DE": Decimal("0.19"), "ES": Decimal("0.21"),
    "FR": Decimal("0.20"), "GB": Decimal("0.20"), "IT": Decimal("0.22"), "JP": Decimal("0.10"),
    "MY": Decimal("0.10"), "NL": Decimal("0.21"), "NZ": Decimal("0.15"), "SG": Decimal("0.09"),
    "US": Decimal("0.00"),
}


class UnsupportedDestination(DomainError):
    pass


@dataclass(frozen=True)
class PricedLine:
    quantity: int
    unit_price: Decimal
    unit_weight_kg: Decimal = DEFAULT_UNIT_WEIGHT_KG


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def quote(lines: list[PricedLine], destination_country: str) -> dict:
    if destination_country not in TAX_RATES:
        raise UnsupportedDestination(
            f"we do not ship to '{destination_country}' yet; destinations: {', '.join(sorted(TAX_RATES))}"
        )
    if not lines:
        raise DomainError("an order needs at least one item")
    items = money(sum((l.unit_price * l.quantity for l in lines), Decimal(0)))
    domestic = money(DOMESTIC_SHIPPING_PER_LINE * len(lines))
    service_fee = money(max(items * SERVICE_FEE_RATE, SERVICE_FEE_MINIMUM))
    weight = max(sum((l.unit_weight_kg * l.quantity for l in lines), Decimal(0)), MINIMUM_CHARGEABLE_KG)
    estimate = money(weight * INTERNATIONAL_RATE_PER_KG)
    taxes = money(items * TAX_RATES[destination_country])
    quote_lines = [
        {"code": "items", "label": "Items", "amount": items},
        {"code": "domestic_shipping", "label": "Domestic shipping to our warehouse", "amount": domestic},
        {"code": "service_fee", "label": f"Service fee ({SERVICE_FEE_RATE:.0%}, min {SERVICE_FEE_MINIMUM})",
         "amount": service_fee},
        # One settlement per parcel: the line's real price is paid once, when the parcel ships.
        {"code": "international_shipping_estimate",
         "label": f"International shipping: about {estimate} CNY for {weight} kg, paid once when your parcel "
                  f"ships at the chosen line's price (not charged now)", "amount": Decimal("0.00")},
        {"code": "taxes", "label": f"Import taxes {destination_country} ({TAX_RATES[destination_country]:.0%} "
                                   f"of the goods)", "amount": taxes},
    ]
    total = sum((l["amount"] for l in quote_lines), Decimal(0))
    return {"currency": "CNY", "lines": quote_lines, "total": total, "rules_version": RULES_VERSION}


def line_refund(quote_total: Decimal, lines: list[dict], line_no: int) -> Decimal:
    """A cancelled line gives back its share of everything paid, in proportion to its value."""
    subtotal = sum((l["unit_price"] * l["quantity"] for l in lines), Decimal(0))
    line = next(l for l in lines if l["line_no"] == line_no)
    if subtotal == 0:
        return Decimal("0.00")
    return money(quote_total * (line["unit_price"] * line["quantity"]) / subtotal)
