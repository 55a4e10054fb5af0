"""Events published by the payments service on `kongfu.payments.events`.

A payment is confirmed by its provider (a signed webhook or a capture answer) or paid from the
customer's balance; the balance moves only through credits and debits, each with its reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from contracts.registry import EventPayload, register

Purpose = Literal["order", "top_up"]
Method = Literal["card", "paypal", "balance"]
CreditKind = Literal["top_up", "refund", "compensation", "counterfeit_refund", "late_confirmation",
                     "withdrawal_reversed"]
DebitKind = Literal["order_payment", "withdrawal"]


@register
class PaymentSucceeded(EventPayload):
    """The provider confirmed the money (or the balance paid it); orders may now go ahead."""

    event_type = "payments.PaymentSucceeded"
    payment_id: UUID
    order_id: UUID | None
    customer_id: str
    purpose: Purpose
    amount: Decimal
    currency: Literal["CNY"]
    method: Method
    provider: str


@register
class PaymentFailed(EventPayload):
    """The provider declined, timed out or failed: nothing was charged, the order stays unpaid."""

    event_type = "payments.PaymentFailed"
    payment_id: UUID
    order_id: UUID | None
    customer_id: str
    purpose: Purpose
    amount: Decimal
    currency: Literal["CNY"]
    method: Method
    provider: str
    reason: str


@register
class BalanceCredited(EventPayload):
    event_type = "payments.BalanceCredited"
    movement_id: UUID
    customer_id: str
    kind: CreditKind
    amount: Decimal
    currency: Literal["CNY"]
    reason: str
    order_id: UUID | None
    rule_version: str | None
    balance_after: Decimal


@register
class BalanceDebited(EventPayload):
    event_type = "payments.BalanceDebited"
    movement_id: UUID
    customer_id: str
    kind: DebitKind
    amount: Decimal
    currency: Literal["CNY"]
    reason: str
    order_id: UUID | None
    rule_version: str | None
    balance_after: Decimal
