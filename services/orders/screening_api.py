"""The screening gateway: the published rules (no token needed) and rights holders' takedowns."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from service_runtime.auth import RISK_ANALYST, Caller
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

    return api
