"""What each way of paying costs on top of the bill (pure; published at `GET /rules/payment-methods`).

PayPal charges the merchant a fee per payment; the platform passes it on as a published
surcharge, shown as its own line before the customer pays and on the ledger afterwards. Cards
and the balance cost nothing extra. A refund gives back the surcharge in proportion to the part
of the payment refunded, so a fully refunded payment returns exactly what the customer paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SURCHARGE_VERSION = "payment-methods-2026.12"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Surcharge:
    rate: Decimal  # a fraction of the amount paid
    fixed: Decimal  # CNY per payment
    label: str


SURCHARGES: dict[str, Surcharge] = {
    "card": Surcharge(Decimal("0"), Decimal("0"), "no surcharge"),
    "paypal": Surcharge(Decimal("0.034"), Decimal("2.35"), "PayPal surcharge: 3.4 % + 2.35 CNY per payment"),
    "balance": Surcharge(Decimal("0"), Decimal("0"), "no surcharge"),
}


def surcharge_for(method: str, amount: Decimal) -> Decimal:
    """The surcharge on paying `amount` CNY by `method`, to the fen (half up); 0 for free methods."""
    rule = SURCHARGES.get(method)
    if rule is None or amount <= 0 or (rule.rate == 0 and rule.fixed == 0):
        return Decimal("0.00")
    return (amount * rule.rate + rule.fixed).quantize(CENT, rounding=ROUND_HALF_UP)


def surcharge_refund(surcharge: Decimal, paid: Decimal, refunded_before: Decimal, refund: Decimal,
                     surcharge_returned: Decimal) -> Decimal:
    """The share of the surcharge a refund gives back: in proportion to the refund, and all that is
    left of it once the payment is refunded in full (so rounding never keeps a fen)."""
    if surcharge <= 0 or paid <= 0 or refund <= 0:
        return Decimal("0.00")
    left = surcharge - surcharge_returned
    if refunded_before + refund >= paid:
        return max(left, Decimal("0.00"))
    share = (surcharge * refund / paid).quantize(CENT, rounding=ROUND_HALF_UP)
    return max(min(share, left), Decimal("0.00"))


def options(amount: Decimal, methods: list[str]) -> list[dict[str, Any]]:
    """Each method with its surcharge line and the total the customer would pay, before paying."""
    return [{"method": method, "amount": str(amount), "surcharge": str(surcharge_for(method, amount)),
             "surcharge_label": SURCHARGES[method].label,
             "total": str(amount + surcharge_for(method, amount)), "currency": "CNY",
             "rule_version": SURCHARGE_VERSION} for method in methods if method in SURCHARGES]


def published_payment_methods() -> dict[str, Any]:
    return {"version": SURCHARGE_VERSION, "currency": "CNY",
            "methods": [{"method": method, "rate": str(rule.rate), "fixed": str(rule.fixed), "label": rule.label}
                        for method, rule in SURCHARGES.items()],
            "rounding": "to the fen, half up",
            "refunds": "a refund returns the surcharge in proportion; a full refund returns all of it"}
