"""The claims gateway: customers open claims on delivered parcels; support agents decide them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, model_validator

from service_runtime.auth import CLAIMS_REVIEWER, CUSTOMER, PURCHASING_AGENT, SUPPORT_AGENT, Caller
from service_runtime.http import current_caller, require_roles
from service_runtime.on_loop import on_loop
from service_runtime.requests import Money, Strict
from service_runtime.rules import rules_router as published_rules_router
from services.claims.app import ClaimsApplication
from services.claims.compensation import ITEM_KINDS, published_rules
from services.claims.disputes import CORRECTABLE_FACTS
from services.claims.returns import ItemReturn
from services.claims.returns_abroad import published_return_rules
from services.claims.tickets import Ticket, published_support_rules
from services.claims.windows import published_windows
from services.claims.domain import Claim, decision_for_customer

# What a customer may open; seizures, customs returns, delays and the purchase guarantee are
# opened by the platform itself (and a customer may still open seized or returned ones).
ClaimKind = Literal["damaged", "missing_item", "wrong_item", "shipping_anomaly", "lost", "seized",
                    "returned_by_customs"]
LineClaimKind = Literal["never_arrived"]
AnyClaimKind = Literal["damaged", "missing_item", "wrong_item", "shipping_anomaly", "lost", "seized",
                       "returned_by_customs", "delayed", "purchase_late", "return_refund", "never_arrived"]
Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")]


class OpenClaimRequest(Strict):
    parcel_id: UUID
    kind: ClaimKind
    traceability_code: str | None = Field(
        default=None, min_length=1, max_length=100,
        description="the item claimed for; required for damaged, missing_item and wrong_item, "
                    "not allowed for shipping_anomaly")
    description: Text
    photos: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def item_matches_kind(self) -> "OpenClaimRequest":
        if self.kind in ITEM_KINDS and self.traceability_code is None:
            raise ValueError(f"a {self.kind} claim needs the traceability_code of the item")
        if self.kind not in ITEM_KINDS and self.traceability_code is not None:
            raise ValueError(f"a {self.kind} claim concerns the whole parcel: leave out traceability_code")
        return self


class LineClaimRequest(Strict):
    order_id: UUID
    line_no: int = Field(ge=1)
    kind: LineClaimKind = "never_arrived"
    description: Text


class DecisionRequest(Strict):
    approved: bool
    notes: Text = Field(description="why: kept with the decision for the customer and for audits")


class ClaimView(BaseModel):
    claim_id: UUID
    parcel_id: UUID | None
    order_ids: list[UUID]
    kind: AnyClaimKind
    origin: Literal["customer", "automatic"]
    traceability_code: str | None
    description: str
    photos: list[str]
    status: Literal["open", "approved", "rejected"]
    opened_at: datetime
    # Once decided: the compensation and the rule that produced it.
    approved: bool | None = None
    amount: Decimal | None = None
    currency: Literal["CNY"] | None = None
    rule: str | None = None
    rule_version: str | None = None
    inputs: dict[str, str] | None = None
    notes: str | None = None
    explanation_en: str | None = None
    explanation_zh: str | None = None
    dispute: dict[str, Any] | None = None
    paid: Decimal | None = None  # all decisions together, a dispute's addition included
    decided_at: datetime | None = None

    @classmethod
    def of(cls, claim: Claim) -> "ClaimView":
        decision = decision_for_customer(claim.decision or {})
        decided_at = decision.pop("decided_at", None) or (claim.modified_on if claim.decision else None)
        return cls(
            claim_id=claim.id, parcel_id=claim.parcel_id, order_ids=claim.order_ids, kind=claim.kind,
            traceability_code=claim.traceability_code, description=claim.description, photos=claim.photos,
            status=claim.status, opened_at=claim.created_on, origin=getattr(claim, "origin", "customer"),
            **decision, decided_at=decided_at,
            dispute=getattr(claim, "dispute_state", None), paid=claim.paid if claim.decision else None,
        )


def router(app: ClaimsApplication) -> APIRouter:
    api = APIRouter(prefix="/claims", tags=["claims"])

    @api.post("", status_code=201, response_model=ClaimView)
    @on_loop
    def open_claim(body: OpenClaimRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Open a claim on one of your delivered parcels: for one item, or for the whole parcel.

        Naturally idempotent, so it takes no Idempotency-Key: an item (or a parcel, per kind of
        claim) has at most one open or approved claim, so a retry after a lost answer cannot open a
        second one; it answers 409 with the claim the first request opened in `existing_claim_id`."""
        claim = app.open_claim(caller, body.parcel_id, body.kind, body.traceability_code, body.description,
                               body.photos)
        return ClaimView.of(claim)

    @api.post("/before-warehouse", status_code=201, response_model=ClaimView)
    def open_line_claim(body: LineClaimRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Claim an order line the merchant shipped that never reached our warehouse (from 10 days
        after the merchant's shipment, for 45 days)."""
        return ClaimView.of(app.open_line_claim(caller, body.order_id, body.line_no, body.description))

    @api.get("/{claim_id:uuid}", response_model=ClaimView)  # so /claims/before-warehouse is a 405 for GET
    @on_loop
    def get_claim(claim_id: UUID, caller: Caller = Depends(current_caller)):
        return ClaimView.of(app.claim_for(caller, claim_id))

    @api.post("/{claim_id}/decision", response_model=ClaimView)
    @on_loop
    def decide(claim_id: UUID, body: DecisionRequest, caller: Caller = Depends(require_roles(SUPPORT_AGENT))):
        """Approve or reject a claim; the amount comes from the published compensation rules."""
        return ClaimView.of(app.decide(caller, claim_id, body.approved, body.notes))

    @api.post("/{claim_id}/counterfeit", response_model=ClaimView)
    def confirm_counterfeit(claim_id: UUID, body: CounterfeitRequest,
                            caller: Caller = Depends(require_roles(SUPPORT_AGENT))):
        """The claimed item is counterfeit: refunded in full (claims.CounterfeitConfirmed), merchant blocked."""
        return ClaimView.of(app.confirm_counterfeit(caller, claim_id, body.evidence, body.notes))

    @api.post("/{claim_id}/dispute", response_model=ClaimView)
    def dispute(claim_id: UUID, body: DisputeRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Contest your claim's decision, once, within 14 days of it."""
        return ClaimView.of(app.dispute(caller, claim_id, body.reason))

    @api.post("/{claim_id}/dispute/outcome", response_model=ClaimView)
    def review(claim_id: UUID, body: ReviewRequest, caller: Caller = Depends(require_roles(CLAIMS_REVIEWER))):
        """Second-level review (claims_reviewer role, not the agent who decided first): uphold or change
        the decision, correcting a money fact if the evidence shows it; only the difference is paid."""
        return ClaimView.of(app.review_dispute(caller, claim_id, body.approved, body.notes, body.corrected_facts))

    return api


class CounterfeitRequest(Strict):
    evidence: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(min_length=1, max_length=20)
    notes: Text


class DisputeRequest(Strict):
    reason: Text


class ReviewRequest(DecisionRequest):
    corrected_facts: dict[Literal[CORRECTABLE_FACTS], Money] = Field(
        default_factory=dict, max_length=3,
        description="money facts of the first decision the evidence corrects, e.g. {\"item_value\": \"300.00\"}")


class OpenTicketRequest(Strict):
    topic: Literal["damage", "missing_item", "wrong_item", "shipping_anomaly", "question"]
    urgent: bool = False
    subject: Text
    order_id: UUID | None = None


class AnswerRequest(Strict):
    answer: Text


class RatingRequest(Strict):
    about: Literal["receipt", "ticket", "claim"] = Field(
        description="receipt: subject_id is your received parcel's id")
    subject_id: UUID
    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, Field(max_length=2000)] = ""


class TicketView(BaseModel):
    ticket_id: UUID
    customer_id: str
    order_id: UUID | None
    topic: str
    urgent: bool
    subject: str
    status: Literal["open", "answered", "closed"]
    due_at: datetime
    escalated_at: datetime | None
    answers: list[dict[str, Any]]

    @classmethod
    def of(cls, ticket: Ticket) -> "TicketView":
        return cls(ticket_id=ticket.id, customer_id=ticket.customer_id, order_id=ticket.order_id,
                   topic=ticket.topic, urgent=ticket.urgent, subject=ticket.subject, status=ticket.status,
                   due_at=ticket.due_at, escalated_at=ticket.escalated_at,
                   answers=[{k: a[k] for k in ("answer", "answered_at", "within_sla")} for a in ticket.answers])


def support_router(app: ClaimsApplication) -> APIRouter:
    api = APIRouter(tags=["support"])

    @api.post("/tickets", status_code=201, response_model=TicketView)
    def open_ticket(body: OpenTicketRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Open an after-sales ticket: answered within 24 hours, or 1 hour when urgent."""
        return TicketView.of(app.open_ticket(caller, body.topic, body.urgent, body.subject, body.order_id))

    @api.get("/tickets/{ticket_id}", response_model=TicketView)
    def get_ticket(ticket_id: UUID, caller: Caller = Depends(current_caller)):
        return TicketView.of(app.ticket_for(caller, ticket_id))

    @api.post("/tickets/{ticket_id}/answers", response_model=TicketView)
    def answer(ticket_id: UUID, body: AnswerRequest, caller: Caller = Depends(require_roles(SUPPORT_AGENT))):
        return TicketView.of(app.answer_ticket(caller, ticket_id, body.answer))

    @api.post("/tickets/{ticket_id}/close", response_model=TicketView)
    def close(ticket_id: UUID, caller: Caller = Depends(require_roles(CUSTOMER, SUPPORT_AGENT))):
        return TicketView.of(app.close_ticket(caller, ticket_id))

    @api.post("/satisfaction", status_code=201)
    def rate(body: RatingRequest, caller: Caller = Depends(require_roles(CUSTOMER))) -> dict[str, Any]:
        """Rate (1-5) your closed ticket or decided claim; published for analytics."""
        survey = app.rate(caller, body.about, body.subject_id, body.rating, body.comment)
        return {"survey_id": survey.id, "about": survey.about, "subject_id": survey.subject_id,
                "rating": survey.rating}

    return api


class ReturnRequest(Strict):
    order_id: UUID
    line_no: int = Field(ge=1)
    kind: Literal["return", "exchange"]
    reason: Literal["faulty", "wrong_item", "not_as_described", "changed_mind"]
    product_type: Literal["general", "underwear", "customised", "opened_consumable"] = "general"


class ReturnShipmentRequest(Strict):
    carrier: str = Field(min_length=2, max_length=40)
    tracking_number: str = Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")


class MerchantRefundRequest(Strict):
    amount: Money


class ReturnView(BaseModel):
    return_id: UUID
    order_id: UUID
    line_no: int
    traceability_code: str
    kind: str
    reason: str
    status: str
    approved: bool
    rule: str
    shipment: dict[str, str] | None

    @classmethod
    def of(cls, item: ItemReturn) -> "ReturnView":
        return cls(return_id=item.id, order_id=item.order_id, line_no=item.line_no,
                   traceability_code=item.traceability_code, kind=item.kind, reason=item.reason,
                   status=item.status, approved=item.approved, rule=item.rule, shipment=item.shipment)


def returns_router(app: ClaimsApplication) -> APIRouter:
    api = APIRouter(prefix="/returns", tags=["returns"])

    @api.post("", status_code=201, response_model=ReturnView)
    def request_return(body: ReturnRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Return an item in our warehouse to its merchant, or exchange it; judged by `GET /rules/returns`."""
        return ReturnView.of(app.request_return(caller, body.order_id, body.line_no, body.kind, body.reason,
                                                body.product_type))

    @api.get("/{return_id:uuid}", response_model=ReturnView)  # so GET /returns/abroad is a 405, not a 422
    def get_return(return_id: UUID, caller: Caller = Depends(current_caller)):
        return ReturnView.of(app.return_for(caller, return_id))

    @api.post("/{return_id}/shipment", response_model=ReturnView)
    def ship_back(return_id: UUID, body: ReturnShipmentRequest,
                  caller: Caller = Depends(require_roles(PURCHASING_AGENT))):
        return ReturnView.of(app.ship_back(caller, return_id, body.carrier, body.tracking_number))

    @api.post("/{return_id}/merchant-refund", response_model=ReturnView)
    def merchant_refund(return_id: UUID, body: MerchantRefundRequest,
                        caller: Caller = Depends(require_roles(PURCHASING_AGENT))):
        """The merchant refunded: the customer is credited the refund less return postage."""
        return ReturnView.of(app.merchant_refunded(caller, return_id, body.amount))

    return api


def rules_router() -> APIRouter:
    """The published rule sets claims decides by; readable by anyone, no token."""
    return published_rules_router({
        "compensation": (published_rules, "Every version of the compensation policy "
                                          "(kind × insured × line → basis, share, cap)"),
        "claim-windows": (published_windows, "Until when each kind of claim may be opened, and its evidence"),
        "returns": (published_return_rules, "Return and exchange windows and exclusions by product type, "
                                            "from our warehouse and from abroad"),
        "support": (published_support_rules, "When a ticket's first answer is due, and what happens if late"),
    })
