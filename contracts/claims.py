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
