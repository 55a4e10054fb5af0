"""The fraud gateway: risk analysts keep reference prices and read review cases."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

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


class CaseView(BaseModel):
    order_id: UUID
    customer_id: str
    decisions: list[Decision]


def router(app: FraudApplication) -> APIRouter:
    api = APIRouter(prefix="/fraud", tags=["fraud"])

    @api.put("/reference-prices/{platform}/{item_id}", response_model=ReferencePriceView)
    def set_reference_price(platform: Platform, item_id: ItemId, body: ReferencePriceRequest,
                            caller: Caller = Depends(require_roles(RISK_ANALYST))):
        ref = app.set_reference_price(platform, item_id, body.price, caller.subject)
        return ReferencePriceView(platform=ref.platform, item_id=ref.item_id, price=ref.price, set_by=ref.set_by)

    @api.get("/cases/{order_id}", response_model=CaseView)
    def get_case(order_id: UUID, _: Caller = Depends(require_roles(RISK_ANALYST, AUDITOR, SUPPORT_AGENT))):
        case = app.case_for_order(order_id)
        return CaseView(order_id=case.order_id, customer_id=case.customer_id, decisions=case.decisions)

    return api
