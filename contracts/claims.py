"""Events published by the claims service on `kongfu.claims.events`."""

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
# refund of an item returned from abroad (`abroad_return_refund`, claim_id = the return's id).
ClaimKindV3 = Literal["damaged", "missing_item", "wrong_item", "shipping_anomaly", "lost", "seized",
                      "returned_by_customs", "delayed", "purchase_late", "return_refund", "never_arrived",
                      "abroad_return_refund"]

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


TicketTopic = Literal["damage", "missing_item", "wrong_item", "shipping_anomaly", "question"]


@register
class TicketOpened(EventPayload):
    """An after-sales ticket; its first answer is due by `due_at` (24 hours, urgent: 1 hour)."""

    event_type = "claims.TicketOpened"
    ticket_id: UUID
    customer_id: str
    order_id: UUID | None
    topic: TicketTopic
    urgent: bool
    subject: str
    due_at: datetime


@register
class TicketAnswered(EventPayload):
    event_type = "claims.TicketAnswered"
    ticket_id: UUID
    customer_id: str
    order_id: UUID | None
    answer: str
    answered_at: datetime
    within_sla: bool


@register
class TicketEscalated(EventPayload):
    """The first-answer deadline passed unanswered: the breach is recorded and the ticket goes up."""

    event_type = "claims.TicketEscalated"
    ticket_id: UUID
    customer_id: str
    order_id: UUID | None
    due_at: datetime
    escalated_at: datetime


@register
class TicketClosed(EventPayload):
    event_type = "claims.TicketClosed"
    ticket_id: UUID
    customer_id: str
    order_id: UUID | None
    closed_by: str


@register
class SatisfactionRated(EventPayload):
    """A customer's rating (1-5) after receipt, a claim or a ticket, for analytics."""

    event_type = "claims.SatisfactionRated"
    survey_id: UUID
    customer_id: str
    order_id: UUID | None
    about: Literal["receipt", "ticket", "claim"]
    subject_id: UUID
    rating: int
    comment: str


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
class SurveyOffered(EventPayload):
    """A satisfaction survey offered to the customer: after receipt is confirmed, after a claim is
    decided and after a ticket is closed. Answered once (`claims.SatisfactionRated`, same
    survey_id). `handled_by` (the agent who decided or answered) and `line_code` (the shipping line)
    let staff compare results; neither is shown to the customer."""

    event_type = "claims.SurveyOffered"
    survey_id: UUID
    customer_id: str
    order_id: UUID | None
    about: Literal["receipt", "ticket", "claim"]
    subject_id: UUID
    handled_by: str | None
    line_code: str | None


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
