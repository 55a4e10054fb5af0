"""Claims and what was decided on them: opened, compensation decided (and decided again after a
dispute), counterfeits confirmed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import Field

from contracts.registry import EventPayload, register, upcaster


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


# v2: claims on both legs and at any stage (lost, seized, returned by customs, delayed) and the
# automatic guarantees (purchase_late, which concerns an order, not a parcel: parcel_id may be
# absent); who opened it (origin); decisions carry their explanation in English and Chinese.
ClaimKindV2 = Literal["damaged", "missing_item", "wrong_item", "shipping_anomaly", "lost", "seized",
                      "returned_by_customs", "delayed", "purchase_late", "return_refund", "never_arrived"]


@register
class ClaimOpenedV2(EventPayload):
    event_type = "claims.ClaimOpened"
    schema_version = 2
    claim_id: UUID
    parcel_id: UUID | None
    customer_id: str
    order_ids: list[UUID]
    kind: ClaimKindV2
    traceability_code: str | None
    description: str
    photos: list[str]
    origin: Literal["customer", "automatic"] = "customer"


@upcaster("claims.ClaimOpened", 1)
def _claim_opened_v1_to_v2(data: dict) -> dict:
    return {**data, "origin": "customer"}


@register
class CompensationDecidedV2(EventPayload):
    """A decision (a support agent's, or an automatic guarantee's) with the amount, the rule and
    its version, the facts it used and why, in English and Chinese. The ledger credits `amount`."""

    event_type = "claims.CompensationDecided"
    schema_version = 2
    claim_id: UUID
    parcel_id: UUID | None
    customer_id: str
    order_ids: list[UUID]
    kind: ClaimKindV2
    approved: bool
    amount: Decimal
    currency: Literal["CNY"]
    rule: str
    rule_version: str
    inputs: dict[str, str]
    decided_by: str
    notes: str
    explanation_en: str = ""
    explanation_zh: str = ""


@upcaster("claims.CompensationDecided", 1)
def _compensation_decided_v1_to_v2(data: dict) -> dict:
    return {**data, "explanation_en": "", "explanation_zh": ""}


# v3: a claim can be decided more than once (a dispute's changed decision adds to the first);
# `decision_no` numbers its decisions so the ledger credits each one, and each one once. Also the
# refund of an item returned from abroad (`abroad_return_refund`, claim_id = the return's id), and
# a recall of a defective batch decided automatically for each of its items already shipped (`recall`).
ClaimKindV3 = Literal["damaged", "missing_item", "wrong_item", "shipping_anomaly", "lost", "seized",
                      "returned_by_customs", "delayed", "purchase_late", "return_refund", "never_arrived",
                      "abroad_return_refund", "recall"]

@register
class CompensationDecidedV3(CompensationDecidedV2):
    """A decision with the amount, the rule and its version, the facts it used and why. The
    ledger credits `amount` once per (claim_id, decision_no): decision 1 is the first decision,
    decision 2 a dispute's changed decision, whose `amount` is only what it adds."""

    schema_version = 3
    kind: ClaimKindV3
    decision_no: int = Field(default=1, ge=1)


@upcaster("claims.CompensationDecided", 2)
def _compensation_decided_v2_to_v3(data: dict) -> dict:
    return {**data, "decision_no": 1}


# ClaimOpened v3: a recall opens a claim for each of its items already shipped (kind `recall`).
@register
class ClaimOpenedV3(ClaimOpenedV2):
    schema_version = 3
    kind: ClaimKindV3


@upcaster("claims.ClaimOpened", 2)
def _claim_opened_v2_to_v3(data: dict) -> dict:
    return dict(data)  # v3 only widens the kinds: every v2 payload is a v3 payload


@register
class DisputeOpened(EventPayload):
    """The customer contests a claim's decision (once, within the published window)."""

    event_type = "claims.DisputeOpened"
    claim_id: UUID
    customer_id: str
    order_ids: list[UUID]
    reason: str
    disputed_at: datetime


@register
class DisputeResolved(EventPayload):
    """A second-level reviewer upheld or changed the decision; a change that pays more is published
    as a further `claims.CompensationDecided` carrying only the difference."""

    event_type = "claims.DisputeResolved"
    claim_id: UUID
    customer_id: str
    order_ids: list[UUID]
    outcome: Literal["upheld", "changed"]
    approved: bool
    reviewer: str
    notes: str
