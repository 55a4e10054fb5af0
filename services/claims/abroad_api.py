"""The gateway for returns from abroad: customers ask and ship back; warehouse staff receive and
inspect; the rules are at `GET /rules/returns` (section `from_abroad`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from service_runtime.auth import CUSTOMER, WAREHOUSE_STAFF, Caller
from service_runtime.http import current_caller, require_roles
from service_runtime.requests import Strict
from services.claims.app import ClaimsApplication
from services.claims.returns_abroad import CONDITION_DEDUCTIONS, AbroadReturn

Condition = Literal[tuple(CONDITION_DEDUCTIONS)]
Postage = Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2,
                                   description="what you paid to send it back, CNY (refunded up to the "
                                               "published cap when the platform pays the return shipping)")]


class AbroadReturnRequest(Strict):
    parcel_id: UUID
    traceability_code: str = Field(min_length=1, max_length=100)
    reason: Literal["faulty", "wrong_item", "not_as_described", "changed_mind"]
    product_type: Literal["general", "underwear", "customised", "opened_consumable"] = "general"


class AbroadShipmentRequest(Strict):
    carrier: str = Field(min_length=2, max_length=40)
    tracking_number: str = Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    postage: Postage = Decimal("0.00")


class InspectionRequest(Strict):
    condition: Condition
    notes: str = Field(min_length=1, max_length=2000, pattern=r"\S")
    photos: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list, max_length=20)


class AbroadReturnView(BaseModel):
    return_id: UUID
    parcel_id: UUID
    order_id: UUID
    line_no: int
    traceability_code: str
    reason: str
    product_type: str
    status: Literal["refused", "awaiting_shipment", "on_its_way_back", "received", "inspected", "refunded"]
    approved: bool
    rule: str
    rules_version: str
    return_shipping_paid_by: Literal["customer", "platform"]
    deadline: datetime
    condition_required: str
    explanation_en: str
    explanation_zh: str
    shipment: dict[str, Any] | None
    inspection: dict[str, Any] | None
    refund: dict[str, Any] | None

    @classmethod
    def of(cls, item: AbroadReturn) -> "AbroadReturnView":
        fields = ("parcel_id", "order_id", "line_no", "traceability_code", "reason", "product_type", "status",
                  "approved", "rule", "rules_version", "return_shipping_paid_by", "deadline", "condition_required",
                  "explanation_en", "explanation_zh", "shipment", "inspection", "refund")
        return cls(return_id=item.id, **{name: getattr(item, name) for name in fields})


def router(app: ClaimsApplication) -> APIRouter:
    api = APIRouter(prefix="/returns/abroad", tags=["returns"])

    @api.post("", status_code=201, response_model=AbroadReturnView)
    def request_return(body: AbroadReturnRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Send back an item delivered to you: judged at once by `GET /rules/returns` (from_abroad)."""
        return AbroadReturnView.of(app.request_abroad_return(caller, body.parcel_id, body.traceability_code,
                                                             body.reason, body.product_type))

    @api.get("/{return_id}", response_model=AbroadReturnView)
    def get_return(return_id: UUID, caller: Caller = Depends(current_caller)):
        return AbroadReturnView.of(app.abroad_return_for(caller, return_id))

    @api.post("/{return_id}/shipment", response_model=AbroadReturnView)
    def ship(return_id: UUID, body: AbroadShipmentRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """You sent it to our warehouse: the carrier and tracking number (and the postage you paid)."""
        return AbroadReturnView.of(app.ship_abroad_return(caller, return_id, body.carrier, body.tracking_number,
                                                          body.postage))

    @api.post("/{return_id}/receipt", response_model=AbroadReturnView)
    def receive(return_id: UUID, caller: Caller = Depends(require_roles(WAREHOUSE_STAFF))):
        """The returned item arrived at our warehouse."""
        return AbroadReturnView.of(app.receive_abroad_return(caller, return_id))

    @api.post("/{return_id}/inspection", response_model=AbroadReturnView)
    def inspect(return_id: UUID, body: InspectionRequest, caller: Caller = Depends(require_roles(WAREHOUSE_STAFF))):
        """What the item came back like; the refund (less a share for a condition problem) follows."""
        return AbroadReturnView.of(app.inspect_abroad_return(caller, return_id, body.condition, body.notes,
                                                             body.photos))

    return api
