"""The claims gateway: customers open claims on delivered parcels; support agents decide them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, model_validator

from service_runtime.auth import CUSTOMER, SUPPORT_AGENT, Caller
from service_runtime.http import current_caller, require_roles
from service_runtime.requests import Strict
from services.claims.app import ClaimsApplication
from services.claims.compensation import ITEM_KINDS
from services.claims.domain import Claim, decision_for_customer

ClaimKind = Literal["damaged", "missing_item", "wrong_item", "shipping_anomaly"]
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


class DecisionRequest(Strict):
    approved: bool
    notes: Text = Field(description="why: kept with the decision for the customer and for audits")


class ClaimView(BaseModel):
    claim_id: UUID
    parcel_id: UUID
    order_ids: list[UUID]
    kind: ClaimKind
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
    decided_at: datetime | None = None

    @classmethod
    def of(cls, claim: Claim) -> "ClaimView":
        decision = claim.decision or {}
        return cls(
            claim_id=claim.id, parcel_id=claim.parcel_id, order_ids=claim.order_ids, kind=claim.kind,
            traceability_code=claim.traceability_code, description=claim.description, photos=claim.photos,
            status=claim.status, opened_at=claim.created_on,
            **decision_for_customer(decision),
            decided_at=claim.modified_on if claim.decision else None,
        )


def router(app: ClaimsApplication) -> APIRouter:
    api = APIRouter(prefix="/claims", tags=["claims"])

    @api.post("", status_code=201, response_model=ClaimView)
    def open_claim(body: OpenClaimRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Open a claim on one of your delivered parcels: for one item, or for the whole parcel.

        Naturally idempotent, so it takes no Idempotency-Key: an item (or a parcel, per kind of
        claim) has at most one open or approved claim, so a retry after a lost answer cannot open a
        second one; it answers 409 naming the claim the first request opened."""
        claim = app.open_claim(caller, body.parcel_id, body.kind, body.traceability_code, body.description,
                               body.photos)
        return ClaimView.of(claim)

    @api.get("/{claim_id}", response_model=ClaimView)
    def get_claim(claim_id: UUID, caller: Caller = Depends(current_caller)):
        return ClaimView.of(app.claim_for(caller, claim_id))

    @api.post("/{claim_id}/decision", response_model=ClaimView)
    def decide(claim_id: UUID, body: DecisionRequest, caller: Caller = Depends(require_roles(SUPPORT_AGENT))):
        """Approve or reject a claim; the amount comes from the published compensation rules."""
        return ClaimView.of(app.decide(caller, claim_id, body.approved, body.notes))

    return api
