"""Events published by the fraud service on `kongfu.fraud.events`."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from contracts.registry import EventPayload, register


@register
class OrderCleared(EventPayload):
    event_type = "fraud.OrderCleared"
    order_id: UUID
    payment_id: UUID


@register
class OrderFlagged(EventPayload):
    event_type = "fraud.OrderFlagged"
    order_id: UUID
    payment_id: UUID
    reasons: list[str]


@register
class ReferencePriceSet(EventPayload):
    event_type = "fraud.ReferencePriceSet"
    platform: str
    item_id: str
    price: Decimal


@register
class ReviewReleased(EventPayload):
    """A risk analyst reviewed a held order and let it proceed."""

    event_type = "fraud.ReviewReleased"
    order_id: UUID
    analyst: str
    reason: str
    rules_version: str


@register
class ReviewCancelled(EventPayload):
    """A risk analyst reviewed a held order and cancelled it: everything paid goes back."""

    event_type = "fraud.ReviewCancelled"
    order_id: UUID
    analyst: str
    reason: str
    rules_version: str
