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


class _PaymentOutcome(EventPayload):
    payment_id: UUID
    order_id: UUID | None
    customer_id: str
    purpose: Purpose
    amount: Decimal
    currency: Literal["CNY"]
    method: Method
    provider: str


@register
class PaymentSucceeded(_PaymentOutcome):
    """The provider confirmed the money (or the balance paid it); orders may now go ahead."""

    event_type = "payments.PaymentSucceeded"


@register
class PaymentFailed(_PaymentOutcome):
    """The provider declined, timed out or failed: nothing was charged, the order stays unpaid."""

    event_type = "payments.PaymentFailed"
    reason: str


class _BalanceMovement(EventPayload):
    movement_id: UUID
    customer_id: str
    amount: Decimal
    currency: Literal["CNY"]
    reason: str
    order_id: UUID | None
    rule_version: str | None
    balance_after: Decimal


@register
class BalanceCredited(_BalanceMovement):
    event_type = "payments.BalanceCredited"
    kind: CreditKind


@register
class BalanceDebited(_BalanceMovement):
    event_type = "payments.BalanceDebited"
    kind: DebitKind


@register
class SurchargeCharged(_PaymentOutcome):
    """The payment method's published surcharge, charged with a confirmed payment as its own line
    (`amount` is the surcharge; the payment's own amount is on its PaymentSucceeded)."""

    event_type = "payments.SurchargeCharged"
    rule_version: str | None
