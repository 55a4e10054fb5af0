"""The screening gateway: the published rules (no token needed), rights holders' takedowns, and the
compliance analysts' queue of lines held for review with their decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from contracts.orders import LineHeldForScreening
from service_runtime.auth import AUDITOR, RISK_ANALYST, SUPPORT_AGENT, Caller
from service_runtime.http import require_roles
from service_runtime.requests import Strict
from services.orders import screening
from services.orders.app import OrdersApplication


class TakedownRequest(Strict):
    product_url: str = Field(max_length=2048, examples=["https://item.taobao.com/item.htm?id=6543217890"])
    rights_holder: str = Field(min_length=2, max_length=200, pattern=r"\S")
    reason: str = Field(min_length=3, max_length=1000, pattern=r"\S")


class ListingView(BaseModel):
    platform: str
    item_id: str
    blocked: bool
    refusals: list[dict]


class HoldDecisionRequest(Strict):
    decision: Literal["approve", "refuse"]
    reason: str = Field(min_length=3, max_length=1000, pattern=r"\S")


class HeldLine(LineHeldForScreening):
    """A line in the compliance queue: the hold as published, with the order's state and the line."""
    order_status: str
    line: dict
    held_at: datetime


class HoldDecision(BaseModel):
    order_id: UUID
    line_no: int
    approved: bool
    line_status: str
    refunds: list[dict]


def router(app: OrdersApplication) -> APIRouter:
    api = APIRouter(prefix="/screening", tags=["screening"])

    @api.get("/rules")
    def rules() -> dict:
        """The screening rules and their version: public, so customers and sellers can read them."""
        return screening.published_rules()

    @api.post("/takedowns", status_code=201, response_model=ListingView)
    def take_down(body: TakedownRequest, _: Caller = Depends(require_roles(RISK_ANALYST))):
        """A rights holder's takedown request: the listing is refused from now on."""
        listing = app.take_down(body.product_url, body.rights_holder.strip(), body.reason.strip())
        return ListingView(platform=listing.platform, item_id=listing.item_id, blocked=bool(listing.blocks),
                           refusals=listing.refusals())

    @api.get("/holds", response_model=list[HeldLine])
    def held_lines(_: Caller = Depends(require_roles(RISK_ANALYST, SUPPORT_AGENT, AUDITOR))):
        """The compliance queue: lines a reviewing rule held, oldest first, until an analyst decides."""
        return app.screening_queue()

    @api.post("/holds/{order_id}/lines/{line_no}/decision", response_model=HoldDecision)
    def decide_hold(order_id: UUID, body: HoldDecisionRequest, line_no: int = Path(ge=1, le=100),
                    _: Caller = Depends(require_roles(RISK_ANALYST))):
        """Approve (the line is bought) or refuse (the line is cancelled and refunded), with a reason.
        An unpaid order's held line waits for the payment (409)."""
        order = app.decide_screening_hold(order_id, line_no, body.decision == "approve", body.reason.strip())
        return HoldDecision(order_id=order.id, line_no=line_no, approved=body.decision == "approve",
                            line_status="cancelled" if line_no in order.cancelled_lines else "active",
                            refunds=[r for r in order.refunds if r["line_no"] == line_no])

    return api
