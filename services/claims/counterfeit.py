"""Counterfeit zero tolerance (pure): an item found counterfeit at inspection is confirmed once,
names its merchant, and is refunded in full: the customer's price for the line plus the line's
share of the service fee. The payments service refunds from `claims.CounterfeitConfirmed` and
merchant governance blocks the merchant from it; orders issues no refund of its own for it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.tracing import TracedAggregate, stable_id


def full_refund(line_amount: Decimal, items_total: Decimal, service_fee: Decimal) -> Decimal:
    share = service_fee * line_amount / items_total if items_total > 0 else Decimal("0")
    return (line_amount + share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def counterfeit_id(order_id: Any, line_no: int) -> UUID:
    return stable_id("counterfeit", order_id, line_no)


def confirmed_counterfeit(order: Any, line_no: int, traceability_code: str, received: dict, source: str,
                          evidence: list, confirmed_by: str) -> "Counterfeit":
    """The confirmation for an order line, naming its merchant, refunded in full."""
    refund = full_refund(order.line_amounts.get(line_no, Decimal("0")), sum(order.line_amounts.values(), Decimal("0")),
                         order.service_fee)
    return Counterfeit(order_id=order.order_id, customer_id=order.customer_id, line_no=line_no,
                       traceability_code=traceability_code, platform=received["platform"],
                       merchant_id=received["merchant_id"], merchant_name=received["merchant_name"], source=source,
                       evidence=list(evidence), confirmed_by=confirmed_by, refund_amount=refund, currency="CNY")


class Counterfeit(TracedAggregate):
    @staticmethod
    def create_id(order_id: UUID, line_no: int, **_: Any) -> UUID:
        return counterfeit_id(order_id, line_no)

    @event("Confirmed")
    def __init__(self, order_id: UUID, customer_id: str, line_no: int, traceability_code: str | None, platform: str,
                 merchant_id: str, merchant_name: str, source: str, evidence: list, confirmed_by: str,
                 refund_amount: Decimal, currency: str) -> None:
        self.order_id = order_id
        self.customer_id = customer_id
        self.line_no = line_no
        self.refund_amount = refund_amount
