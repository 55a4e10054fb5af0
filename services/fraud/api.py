"""The fraud gateway: risk analysts keep reference prices and read review cases."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from contracts.orders import Platform

from service_runtime.auth import AUDITOR, RISK_ANALYST, SUPPORT_AGENT, Caller
from service_runtime.http import require_roles
from service_runtime.requests import Money, Strict
from services.fraud.app import FraudApplication


class ReferencePriceRequest(Strict):
    price: Money


# Marketplace item ids are digits on every supported platform (services/orders/marketplace.py).
ItemId = Annotated[str, Path(pattern=r"^[0-9]{1,20}$", examples=["6543217890"])]


class ReferencePriceView(BaseModel):
    platform: str
    item_id: str
    price: Decimal
    set_by: str


class Decision(BaseModel):
    payment_id: UUID
    outcome: str
    reasons: list[str]
    rules_version: str


class Review(BaseModel):
    decision: Literal["release", "cancel_and_refund"]
    analyst: str
    reason: str
    rules_version: str


class CaseView(BaseModel):
    order_id: UUID
    customer_id: str
    decisions: list[Decision]
    held: bool
    review: Review | None

    @classmethod
    def of(cls, case) -> "CaseView":
        return cls(order_id=case.order_id, customer_id=case.customer_id, decisions=case.decisions, held=case.held,
                   review=case.review)


class ReviewRequest(Strict):
    decision: Literal["release", "cancel_and_refund"]
    reason: str = Field(min_length=3, max_length=1000)


def router(app: FraudApplication) -> APIRouter:
    api = APIRouter(prefix="/fraud", tags=["fraud"])

    @api.put("/reference-prices/{platform}/{item_id}", response_model=ReferencePriceView)
    def set_reference_price(platform: Platform, item_id: ItemId, body: ReferencePriceRequest,
                            caller: Caller = Depends(require_roles(RISK_ANALYST))):
        ref = app.set_reference_price(platform, item_id, body.price, caller.subject)
        return ReferencePriceView(platform=ref.platform, item_id=ref.item_id, price=ref.price, set_by=ref.set_by)

    @api.get("/cases/{order_id}", response_model=CaseView)
    def get_case(order_id: UUID, _: Caller = Depends(require_roles(RISK_ANALYST, AUDITOR, SUPPORT_AGENT))):
        return CaseView.of(app.case_for_order(order_id))

    @api.get("/review-queue", response_model=list[CaseView])
    def review_queue(_: Caller = Depends(require_roles(RISK_ANALYST, AUDITOR))):
        """Held orders with the rules' reasons and evidence, waiting for a risk analyst."""
        return [CaseView.of(case) for case in app.review_queue()]

    @api.post("/cases/{order_id}/review", response_model=CaseView)
    def review(order_id: UUID, body: ReviewRequest, caller: Caller = Depends(require_roles(RISK_ANALYST))):
        """Release the order (it proceeds) or cancel it (everything paid goes back to the balance)."""
        return CaseView.of(app.resolve(order_id, body.decision, caller.subject, body.reason))

    return api
