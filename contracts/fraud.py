"""Events published by the fraud service on `kongfu.fraud.events`."""

from __future__ import annotations

from datetime import datetime
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


@register
class VelocityRuleTripped(EventPayload):
    """A velocity rule's verdict, from the fraud service's streams role (faust-streaming agents
    over the orders and payments topics) on `kongfu.fraud-streams.events`. Fraud's worker records
    it and flags the order (`OrderFlagged`), so orders never reads this topic.

    `verdict_id` is derived from the payment (or order) and the rule, so a re-run of the agent
    publishes the same id and the same envelope event id."""

    event_type = "fraud.VelocityRuleTripped"
    verdict_id: UUID
    order_id: UUID
    customer_id: str
    payment_id: UUID | None
    rule: str
    reason: str
    rules_version: str
    window_start: datetime
    window_end: datetime
