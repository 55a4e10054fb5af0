"""Returns: to the merchant (or an exchange) before shipping abroad, and back from abroad."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from contracts.registry import EventPayload, register


@register
class ReturnDecided(EventPayload):
    """A return to the merchant or an exchange, approved or refused by the published return rules.
    An approved exchange makes purchasing buy the line again."""

    event_type = "claims.ReturnDecided"
    return_id: UUID
    order_id: UUID
    customer_id: str
    line_no: int
    traceability_code: str
    kind: Literal["return", "exchange"]
    reason: str
    product_type: str
    approved: bool
    rule: str
    rules_version: str
    explanation_en: str
    explanation_zh: str


@register
class ReturnShippedToMerchant(EventPayload):
    event_type = "claims.ReturnShippedToMerchant"
    return_id: UUID
    order_id: UUID
    customer_id: str
    carrier: str
    tracking_number: str
    agent: str


@register
class AbroadReturnDecided(EventPayload):
    """A customer asked to send back an item delivered abroad: approved or refused by the published
    rules for returns from abroad, with who pays the shipping back, the deadline and the condition."""

    event_type = "claims.AbroadReturnDecided"
    return_id: UUID
    parcel_id: UUID
    order_id: UUID
    customer_id: str
    line_no: int
    traceability_code: str
    reason: str
    product_type: str
    approved: bool
    rule: str
    rules_version: str
    return_shipping_paid_by: Literal["customer", "platform"]
    deadline: datetime
    condition_required: str
    explanation_en: str
    explanation_zh: str


@register
class AbroadReturnShipped(EventPayload):
    """The customer sent the item back to our warehouse: the carrier and its tracking number."""

    event_type = "claims.AbroadReturnShipped"
    return_id: UUID
    order_id: UUID
    customer_id: str
    carrier: str
    tracking_number: str
    postage: Decimal


@register
class AbroadReturnReceived(EventPayload):
    event_type = "claims.AbroadReturnReceived"
    return_id: UUID
    order_id: UUID
    customer_id: str
    tracking_number: str
    staff_id: str


@register
class AbroadReturnInspected(EventPayload):
    """What the warehouse found; the refund follows as `claims.CompensationDecided`
    (kind abroad_return_refund, claim_id = return_id)."""

    event_type = "claims.AbroadReturnInspected"
    return_id: UUID
    order_id: UUID
    customer_id: str
    condition: Literal["as_sent", "used", "damaged_by_customer"]
    notes: str
    photos: list[str]
    staff_id: str
