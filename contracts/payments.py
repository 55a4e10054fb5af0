"""Events published by the payments service on `kongfu.payments.events`.

A payment is confirmed by its provider (a signed webhook or a capture answer) or paid from the
customer's balance; the balance moves only through credits and debits, each with its reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from contracts.registry import EventPayload, register, upcaster

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


# v2: payments is the one place where every charge is paid, so an outcome names what it paid
# (`purpose` and the owner's `reference`: the order, the parcel, an order line) and the bill's
# itemised lines; a balance debit carries the same lines.
PurposeV2 = Literal["order", "top_up", "shipping", "price_difference"]
DebitKindV2 = Literal["order_payment", "withdrawal", "shipping_payment", "price_difference_payment"]


class ChargeLineV1(BaseModel):
    """One line of a bill: what it is for and its amount (no hidden fees)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    label: str
    amount: Decimal
    traceability_code: str | None = None


class _PaymentFactsV2(EventPayload):
    payment_id: UUID
    order_id: UUID | None
    customer_id: str
    purpose: PurposeV2
    amount: Decimal
    currency: Literal["CNY"]
    method: Method
    provider: str


class _PaymentOutcomeV2(_PaymentFactsV2):
    reference: str | None = None
    lines: list[ChargeLineV1] = []


@register
class PaymentSucceededV2(_PaymentOutcomeV2):
    """The provider confirmed the money (or the balance paid it): the owner of `reference` may go
    ahead (an order is paid, a parcel may be handed over, a line's purchase proceeds)."""

    event_type = "payments.PaymentSucceeded"
    schema_version = 2


@register
class PaymentFailedV2(_PaymentOutcomeV2):
    """The provider declined, timed out or failed: nothing was charged, the bill stays unpaid."""

    event_type = "payments.PaymentFailed"
    schema_version = 2
    reason: str


def _outcome_v1_to_v2(data: dict) -> dict:
    return {**data, "reference": str(data["order_id"]) if data.get("order_id") else None, "lines": []}


upcaster("payments.PaymentSucceeded", 1)(_outcome_v1_to_v2)
upcaster("payments.PaymentFailed", 1)(_outcome_v1_to_v2)


@register
class BalanceDebitedV2(_BalanceMovement):
    event_type = "payments.BalanceDebited"
    schema_version = 2
    kind: DebitKindV2
    lines: list[ChargeLineV1] = []


@upcaster("payments.BalanceDebited", 1)
def _balance_debited_v1_to_v2(data: dict) -> dict:
    return {**data, "lines": []}


@register
class SurchargeCharged(_PaymentFactsV2):
    """The payment method's published surcharge, charged with a confirmed payment as its own line
    (`amount` is the surcharge; the payment's own amount is on its PaymentSucceeded)."""

    event_type = "payments.SurchargeCharged"
    rule_version: str | None


# v3: a card payment names its card by Stripe's `payment_method.card.fingerprint` (a hash Stripe
# computes from the card number, the same for one card across customers; no card data), so the
# velocity rules can see one card used by many customers. PayPal and balance payments carry none.
class _PaymentOutcomeV3(_PaymentOutcomeV2):
    card_fingerprint: str | None = None


@register
class PaymentSucceededV3(_PaymentOutcomeV3):
    """The provider confirmed the money (or the balance paid it): the owner of `reference` may go
    ahead; `card_fingerprint` names the card a card payment used."""

    event_type = "payments.PaymentSucceeded"
    schema_version = 3


@register
class PaymentFailedV3(_PaymentOutcomeV3):
    """The provider declined, timed out or failed: nothing was charged, the bill stays unpaid."""

    event_type = "payments.PaymentFailed"
    schema_version = 3
    reason: str


def _outcome_v2_to_v3(data: dict) -> dict:
    return {**data, "card_fingerprint": None}


upcaster("payments.PaymentSucceeded", 2)(_outcome_v2_to_v3)
upcaster("payments.PaymentFailed", 2)(_outcome_v2_to_v3)
