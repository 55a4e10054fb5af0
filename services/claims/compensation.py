"""The published compensation rules for after-sales claims (pure).

Each rule turns the facts of a claim into an amount in CNY, the rule's name and the inputs it
used (as strings, so the decision can be explained and recomputed later). The rule version is
recorded with every decision. Amounts are rounded half-up to the cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from service_runtime.errors import Conflict

RULES_VERSION = "compensation-2026.11"
CENT = Decimal("0.01")
SHIPPING_ANOMALY_RATE = Decimal("0.50")
ITEM_KINDS = ("damaged", "missing_item", "wrong_item")
PARCEL_KINDS = ("shipping_anomaly",)


class Compensation(NamedTuple):
    amount: Decimal
    rule: str
    inputs: dict[str, str]


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def damaged_item(traceability_code: str, item_value: Decimal) -> Compensation:
    """A damaged item is compensated at 100% of its value."""
    return Compensation(money(item_value), "damaged_item_full_value",
                        {"traceability_code": traceability_code, "item_value": str(money(item_value))})


def missing_item(traceability_code: str, item_value: Decimal, parcel_value: Decimal,
                 shipping_fee: Decimal) -> Compensation:
    """A missing item is compensated at its value plus its share of the shipping fee, in
    proportion to its value within the parcel."""
    share = money(shipping_fee * item_value / parcel_value) if parcel_value > 0 else Decimal("0.00")
    return Compensation(money(item_value + share), "missing_item_value_plus_shipping_share", {
        "traceability_code": traceability_code, "item_value": str(money(item_value)),
        "parcel_value": str(money(parcel_value)), "shipping_fee": str(money(shipping_fee)),
        "shipping_share": str(share),
    })


def wrong_item(traceability_code: str, item_value: Decimal) -> Compensation:
    """A wrong item (not what was ordered) is compensated at 100% of the ordered item's value."""
    return Compensation(money(item_value), "wrong_item_full_value",
                        {"traceability_code": traceability_code, "item_value": str(money(item_value))})


def shipping_anomaly(shipping_fee: Decimal) -> Compensation:
    """A shipping anomaly (late, lost in transit, mishandled; the whole parcel) is compensated
    at 50% of the shipping fee paid."""
    return Compensation(money(shipping_fee * SHIPPING_ANOMALY_RATE), "shipping_anomaly_half_fee",
                        {"shipping_fee": str(money(shipping_fee)), "rate": str(SHIPPING_ANOMALY_RATE)})


def rejected(kind: str) -> Compensation:
    """A rejected claim is compensated with nothing."""
    return Compensation(Decimal("0.00"), "rejected", {"kind": kind})


def compensation_for(kind: str, approved: bool, traceability_code: str | None,
                     item_values: dict[str, Decimal], shipping_fee: Decimal | None) -> Compensation:
    """The rule that applies to a decided claim, given the parcel's item values and shipping fee."""
    if not approved:
        return rejected(kind)
    if kind in PARCEL_KINDS or kind == "missing_item":
        if shipping_fee is None:
            raise Conflict("the parcel's shipping fee is not known yet; decide this claim a little later")
    if kind == "shipping_anomaly":
        return shipping_anomaly(shipping_fee)
    value = item_values[traceability_code]
    if kind == "damaged":
        return damaged_item(traceability_code, value)
    if kind == "missing_item":
        return missing_item(traceability_code, value, sum(item_values.values(), Decimal(0)), shipping_fee)
    if kind == "wrong_item":
        return wrong_item(traceability_code, value)
    raise ValueError(f"no compensation rule for claims of kind {kind!r}")
