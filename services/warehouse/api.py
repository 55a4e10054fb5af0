"""The warehouse gateway: intake, inspection, storage and packing for staff; shipment requests and
item and parcel views for customers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from contracts.common import ParcelItemV1
from service_runtime.auth import CUSTOMER, WAREHOUSE_STAFF, Caller
from service_runtime.http import current_caller, require_roles
from service_runtime.on_loop import on_loop
from service_runtime.requests import Strict, decimal_text
from services.warehouse.app import WarehouseApplication
from services.warehouse.codes import CODE_PATTERN
from services.warehouse.domain import Item, Parcel
from services.warehouse.packing import PackingPlan

MEASURE_PATTERN = r"^(?:[1-9][0-9]{0,6}(?:\.[0-9]{1,3})?|0\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))$"
Measure = Annotated[Decimal, *decimal_text(MEASURE_PATTERN, "2.4", "a measure is a decimal string above zero with "
                                                                    "at most three decimals, like \"2.4\""),
                    Field(gt=0, max_digits=10, decimal_places=3)]
Label = Annotated[str, Field(min_length=1, max_length=200)]


class InboundRequest(Strict):
    tracking_number: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 \-]*$",
                                 examples=["SF1234567890"])
    carrier: str = Field(min_length=1, max_length=100, examples=["SF Express"])


class SpecialInspectionRequest(Strict):
    checks: list[Label] = Field(min_length=1, max_length=30, examples=[["no cracks under light"]])
    passed: bool
    notes: str = Field(max_length=2000)


class InspectionRequest(Strict):
    quantity_checked: int = Field(ge=0, le=9999)
    exterior_condition: Literal["intact", "minor_damage", "damaged"]
    photos: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        min_length=3, max_length=30, description="references to at least 3 photos", examples=[["photo://a/1"] * 3])
    notes: str = Field(default="", max_length=2000)
    counterfeit: bool = Field(default=False, description="the item is counterfeit: it fails, never ships, and "
                                                         "the customer is refunded in full")


class StorageRequest(Strict):
    location: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_.]*$",
                          examples=["A-03-017"])


TypedCode = Annotated[str, Path(pattern=CODE_PATTERN, examples=["KF0123456789AX"],
                                description="a traceability code as printed on the item's label")]


class ShipmentRequest(Strict):
    traceability_codes: list[Annotated[str, Field(pattern=CODE_PATTERN)]] = Field(
        min_length=1, max_length=100)
    destination_country: str = Field(pattern=r"^[A-Z]{2}$", examples=["GB"])


class PackRequest(Strict):
    weight_kg: Measure
    length_cm: Measure
    width_cm: Measure
    height_cm: Measure
    materials: list[Label] = Field(max_length=30)
    cushioning: str = Field(min_length=1, max_length=200)


class InboundResult(BaseModel):
    matched: bool
    traceability_code: str | None = None
    traceability_codes: list[str] = []
    receipt_id: UUID | None = None


class UnmatchedParcel(BaseModel):
    receipt_id: UUID
    tracking_number: str
    carrier: str
    received_by: str
    received_at: datetime


class SpecialInspectionView(BaseModel):
    checks: list[str]
    passed: bool
    notes: str


class InspectionView(BaseModel):
    quantity_checked: int
    exterior_condition: str
    photos: list[str]
    passed: bool
    issues: list[str]
    notes: str


class ItemView(BaseModel):
    traceability_code: str
    customer_id: str
    order_id: UUID
    line_no: int
    platform: str
    item_id: str
    sku: str
    quantity_expected: int
    category: str
    merchant_name: str
    status: str
    special_inspection: SpecialInspectionView | None
    inspection: InspectionView | None
    location: str | None
    qc_resolution: str | None
    parcel_id: UUID | None
    received_at: datetime

    @classmethod
    def of(cls, item: Item) -> "ItemView":
        return cls(traceability_code=item.traceability_code, customer_id=item.customer_id, order_id=item.order_id,
                   line_no=item.line_no, platform=item.platform, item_id=item.item_id, sku=item.sku,
                   quantity_expected=item.quantity_expected, category=item.category,
                   merchant_name=item.merchant_name, status=item.status, special_inspection=item.special_inspection,
                   inspection=item.inspection, location=item.location, qc_resolution=item.qc_resolution,
                   parcel_id=item.parcel_id, received_at=item.created_on)


class PackingView(BaseModel):
    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal
    materials: list[str]
    cushioning: str
    reinforced: bool


class ParcelView(BaseModel):
    parcel_id: UUID
    customer_id: str
    destination_country: str
    status: Literal["awaiting_packing", "packed"]
    items: list[ParcelItemV1]  # as published in the events
    packing: PackingView | None
    requested_at: datetime

    @classmethod
    def of(cls, parcel: Parcel) -> "ParcelView":
        return cls(parcel_id=parcel.parcel_id, customer_id=parcel.customer_id,
                   destination_country=parcel.destination_country,
                   status="packed" if parcel.packing else "awaiting_packing", items=parcel.items,
                   packing=parcel.packing, requested_at=parcel.created_on)


class PackingPlanView(BaseModel):
    parcel_id: UUID
    materials: list[str]
    cushioning: str
    reinforcement_required: list[str]
    reasons: list[str]

    @classmethod
    def of(cls, parcel_id: UUID, plan: PackingPlan) -> "PackingPlanView":
        return cls(parcel_id=parcel_id, materials=list(plan.materials), cushioning=plan.cushioning,
                   reinforcement_required=list(plan.reinforcement_required), reasons=list(plan.reasons))


def router(app: WarehouseApplication) -> APIRouter:
    api = APIRouter(prefix="/warehouse", tags=["warehouse"])
    staff = require_roles(WAREHOUSE_STAFF)

    @api.post("/inbound", response_model=InboundResult)
    @on_loop
    def receive_parcel(body: InboundRequest, caller: Caller = Depends(staff)):
        """Scan a parcel at intake: matched to its purchase, or kept in the unmatched queue."""
        result = app.receive_parcel(body.tracking_number, body.carrier, caller.subject)
        codes = result.get("traceability_codes", [])
        return InboundResult(**result, traceability_code=codes[0] if codes else None)

    @api.get("/items/{code}", response_model=ItemView)
    @on_loop
    def get_item(code: TypedCode, caller: Caller = Depends(current_caller)):
        return ItemView.of(app.item_for(caller, code))

    @api.post("/items/{code}/special-inspection", response_model=ItemView)
    @on_loop
    def record_special_inspection(code: TypedCode, body: SpecialInspectionRequest, caller: Caller = Depends(staff)):
        return ItemView.of(app.record_special_inspection(code, body.checks, body.passed, body.notes, caller.subject))

    @api.post("/items/{code}/inspection", response_model=ItemView)
    @on_loop
    def inspect(code: TypedCode, body: InspectionRequest, caller: Caller = Depends(staff)):
        return ItemView.of(app.inspect(code, body.quantity_checked, body.exterior_condition, body.photos, body.notes,
                                       caller.subject, body.counterfeit))

    @api.post("/items/{code}/storage", response_model=ItemView)
    @on_loop
    def store(code: TypedCode, body: StorageRequest, caller: Caller = Depends(staff)):
        return ItemView.of(app.store(code, body.location, caller.subject))

    @api.post("/shipment-requests", status_code=201, response_model=ParcelView)
    @on_loop
    def request_shipment(body: ShipmentRequest, caller: Caller = Depends(require_roles(CUSTOMER))):
        """Ship your stored items together: they become one parcel.

        Naturally idempotent, so it takes no Idempotency-Key: an item can be in one shipment
        request only, so a retry after a lost answer cannot make a second parcel; it answers 409
        and `GET /warehouse/items/{code}` shows the parcel the first request made."""
        return ParcelView.of(app.request_shipment(caller, body.traceability_codes, body.destination_country))

    @api.get("/parcels/{parcel_id}", response_model=ParcelView)
    def get_parcel(parcel_id: UUID, caller: Caller = Depends(current_caller)):
        return ParcelView.of(app.parcel_for(caller, parcel_id))

    @api.get("/parcels/{parcel_id}/packing-plan", response_model=PackingPlanView)
    @on_loop
    def packing_plan(parcel_id: UUID, _: Caller = Depends(staff)):
        return PackingPlanView.of(parcel_id, app.packing_plan(parcel_id))

    @api.post("/parcels/{parcel_id}/pack", response_model=ParcelView)
    @on_loop
    def pack(parcel_id: UUID, body: PackRequest, caller: Caller = Depends(staff)):
        return ParcelView.of(app.pack(parcel_id, body.weight_kg, body.length_cm, body.width_cm, body.height_cm,
                                      body.materials, body.cushioning, caller.subject))

    return api
