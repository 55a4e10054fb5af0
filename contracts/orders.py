"""Events published by the orders service on `kongfu.orders.events`."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.registry import EventPayload, register

Platform = Literal["taobao", "tmall", "jd", "1688", "pinduoduo", "weidian"]


class OrderLineV1(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    line_no: int = Field(ge=1)
    platform: Platform
    item_id: str
    product_url: str
    sku: str
    quantity: int = Field(ge=1)
    unit_price: Decimal = Field(description="CNY, as the customer entered it")


class QuoteLineV1(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    label: str
    amount: Decimal


class QuoteV1(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    currency: Literal["CNY"]
    lines: list[QuoteLineV1]
    total: Decimal
    rules_version: str


@register
class OrderPlaced(EventPayload):
    event_type = "orders.OrderPlaced"
    order_id: UUID
    customer_id: str
    destination_country: str
    lines: list[OrderLineV1]
    quote: QuoteV1


@register
class PaymentRecorded(EventPayload):
    event_type = "orders.PaymentRecorded"
    order_id: UUID
    payment_id: UUID
    amount: Decimal
    currency: Literal["CNY"]
    method: str


@register
class OrderConfirmed(EventPayload):
    event_type = "orders.OrderConfirmed"
    order_id: UUID


@register
class OrderHeld(EventPayload):
    event_type = "orders.OrderHeld"
    order_id: UUID
    reasons: list[str]


@register
class PriceChangeAccepted(EventPayload):
    event_type = "orders.PriceChangeAccepted"
    order_id: UUID
    line_no: int
    new_unit_price: Decimal
    price_difference: Decimal  # positive: the customer paid more; negative: refunded


@register
class LineCancelled(EventPayload):
    event_type = "orders.LineCancelled"
    order_id: UUID
    line_no: int
    reason: str


@register
class RefundIssued(EventPayload):
    event_type = "orders.RefundIssued"
    order_id: UUID
    refund_id: UUID
    amount: Decimal
    currency: Literal["CNY"]
    reason: str
    line_no: int | None = None


@register
class QcResolutionChosen(EventPayload):
    event_type = "orders.QcResolutionChosen"
    order_id: UUID
    line_no: int
    traceability_code: str
    choice: Literal["repurchase", "return_to_merchant", "refund"]


@register
class CustomerProfileUpdated(EventPayload):
    """A customer's contact details. Every personal field is AES-GCM ciphertext under the customer's
    own key (`pii:v1:...`), never plain text; after erasure nobody can read it."""

    event_type = "orders.CustomerProfileUpdated"
    customer_id: str
    name: str | None
    address: str | None
    phone: str | None
    email: str | None
    comments: str | None


@register
class CustomerErased(EventPayload):
    """The customer's key was destroyed: their personal fields everywhere now read as erased."""

    event_type = "orders.CustomerErased"
    customer_id: str


@register
class PriceDifferenceBilled(EventPayload):
    """The customer accepted a higher new price: the order is owed `amount` for the line, paid at
    payments (`POST /payments/orders/{order_id}/lines/{line_no}/price-difference`). The new price
    stands, and the purchase goes ahead, once payments confirms it (PriceChangeAccepted)."""

    event_type = "orders.PriceDifferenceBilled"
    order_id: UUID
    customer_id: str
    line_no: int
    quantity: int
    old_unit_price: Decimal
    new_unit_price: Decimal
    amount: Decimal
    currency: Literal["CNY"]
