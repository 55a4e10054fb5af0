"""A parcel's shipping bill (pure): what the customer pays for one parcel, line by line.

The bill is issued when the customer chooses a shipping line and is frozen then: the chosen
line's price, the insurance premium when the parcel is insured, and each item's storage fees due
(as the warehouse reported them when it packed the parcel). Payments learns it from
`logistics.ShippingBilled` and takes the money; nothing else is charged for the parcel, and the
international shipping estimate in the order's quote was never charged with the goods.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

CENT = Decimal("0.01")


def compose_bill(line_name: str, line_price: Decimal, premium: Decimal | None,
                 storage_fees: Iterable[dict]) -> tuple[list[dict], Decimal]:
    """The itemised lines and their total; storage fees of zero are not lines."""
    lines = [{"code": "shipping", "label": f"International shipping: {line_name}", "amount": line_price,
              "traceability_code": None}]
    if premium is not None and premium > 0:
        lines.append({"code": "insurance_premium", "label": "Shipping insurance premium", "amount": premium,
                      "traceability_code": None})
    for fee in storage_fees:
        amount = Decimal(str(fee["amount"])).quantize(CENT)
        if amount > 0:
            lines.append({"code": "storage_fee", "traceability_code": fee["traceability_code"], "amount": amount,
                          "label": f"Storage fees: {fee['fee_days']} days after the free period "
                                   f"({fee['traceability_code']})"})
    total = sum((line["amount"] for line in lines), Decimal("0")).quantize(CENT)
    return lines, total
