"""Events published by the claims service on `kongfu.claims.events`."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from contracts.registry import EventPayload, register

ClaimKind = Literal["damaged", "missing_item", "wrong_item", "shipping_anomaly"]


@register
class ClaimOpened(EventPayload):
    event_type = "claims.ClaimOpened"
    claim_id: UUID
    parcel_id: UUID
    customer_id: str
    order_ids: list[UUID]
    kind: ClaimKind
    traceability_code: str | None
    description: str
    photos: list[str]


@register
class CompensationDecided(EventPayload):
    """A support agent's decision with the amount and the rule that produced it."""

    event_type = "claims.CompensationDecided"
    claim_id: UUID
    parcel_id: UUID
    customer_id: str
    order_ids: list[UUID]
    kind: ClaimKind
    approved: bool
    amount: Decimal
    currency: Literal["CNY"]
    rule: str
    rule_version: str
    inputs: dict[str, str]
    decided_by: str
    notes: str


@register
class CounterfeitConfirmed(EventPayload):
    """An item confirmed counterfeit (at inspection or through a claim): the customer is refunded in
    full, the item never ships, and merchant governance blocks the merchant for good."""

    event_type = "claims.CounterfeitConfirmed"
    order_id: UUID
    customer_id: str
    line_no: int
    traceability_code: str | None
    platform: str
    merchant_id: str
    merchant_name: str
    source: Literal["inspection", "claim"]
    evidence: list[str]
    confirmed_by: str
    refund_amount: Decimal
    currency: Literal["CNY"]
