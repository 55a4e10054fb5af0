"""What the logistics gateway accepts and answers: requests, views of a parcel, its quotes, its
bill and its insurance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from contracts.common import ParcelItemV1
from contracts.logistics import TrackingStatus
from service_runtime.requests import Money, Strict
from services.logistics.domain import Shipment
from services.logistics.insurance import INSURANCE_VERSION, InsuranceCover
from services.logistics.lines import LineQuote

CarrierName = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$",
                                   examples=["fake-express"])]
TrackingNumber = Annotated[str, Field(min_length=6, max_length=40, pattern=r"^[A-Za-z0-9-]+$",
                                      examples=["KF0123456789GB"])]


class ShippingRequest(Strict):
    line_code: str = Field(min_length=2, max_length=40, examples=["economy-air"])
    amount: Money | None = Field(default=None, description="the line's price for this parcel as quoted, in CNY "
                                                           "(checked when given)")


class DeclaredItemRequest(Strict):
    traceability_code: str = Field(min_length=1, max_length=64)
    hs_code: str = Field(pattern=r"^[0-9]{6,10}$", examples=["691390"])
    description: str = Field(min_length=2, max_length=200, examples=["ceramic vase"])
    declared_value: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])


class CustomsRequest(Strict):
    items: list[DeclaredItemRequest] = Field(min_length=1, max_length=200)


class PersonalisedDeclarationItem(Strict):
    traceability_code: str = Field(min_length=1, max_length=64)
    declared_value: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])


class PersonalisedDeclarationRequest(Strict):
    items: list[PersonalisedDeclarationItem] = Field(min_length=1, max_length=200)
    warning_accepted: bool = Field(description="the customer read and accepted the under-declaration warning")


class HandoverRequest(Strict):
    carrier: CarrierName
    tracking_number: TrackingNumber


class CarrierUpdate(Strict):
    carrier_event_id: str = Field(min_length=1, max_length=200)
    tracking_number: str = Field(min_length=1, max_length=40)
    status: TrackingStatus | Literal["customs_hold", "customs_seized", "customs_released"]
    incident: Literal["lost", "seized", "returned_by_customs"] | None = Field(
        default=None, description="with status `exception`: the parcel will not arrive, and why")
    location: str = Field(min_length=1, max_length=300)
    occurred_at: AwareDatetime


class BillLineView(BaseModel):
    code: Literal["shipping", "insurance_premium", "storage_fee"]
    label: str
    amount: Decimal
    traceability_code: str | None = None


class ShippingBillView(BaseModel):
    """The parcel's bill, itemised; paid at payments (`POST /payments/shipping/{parcel_id}`)."""

    parcel_id: UUID
    line_code: str
    chargeable_weight_kg: Decimal
    lines: list[BillLineView]
    total: Decimal
    currency: str
    paid: bool
    pay_at: str

    @classmethod
    def of(cls, shipment: Shipment) -> "ShippingBillView":
        bill = shipment.bill
        return cls(parcel_id=shipment.id, paid=shipment.shipping is not None,
                   pay_at=f"/payments/shipping/{shipment.id}",
                   **{k: bill[k] for k in ("line_code", "chargeable_weight_kg", "lines", "total", "currency")})


class ShippingView(BaseModel):
    payment_id: UUID
    parcel_id: UUID
    line_code: str
    chargeable_weight_kg: Decimal
    amount: Decimal
    currency: str
    method: str

    @classmethod
    def of(cls, parcel_id: UUID, shipping: dict) -> "ShippingView":
        return cls(parcel_id=parcel_id, **{k: shipping[k] for k in (
            "payment_id", "line_code", "chargeable_weight_kg", "amount", "currency", "method")})


class DeclaredItemView(BaseModel):
    traceability_code: str
    hs_code: str
    description: str
    declared_value: Decimal
    currency: str


class HandoverView(BaseModel):
    carrier: str
    tracking_number: str


class TrackingView(BaseModel):
    carrier_event_id: str
    status: str
    location: str
    carrier_time: datetime


class ParcelView(BaseModel):
    parcel_id: UUID
    customer_id: str
    order_ids: list[UUID]
    destination_country: str
    status: str
    items: list[ParcelItemV1]  # as published in the events
    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal
    shipping: ShippingView | None
    bill: ShippingBillView | None = None
    customs_declaration: list[DeclaredItemView] | None
    handover: HandoverView | None
    tracking: list[TrackingView]
    packed_at: datetime
    version: int

    @classmethod
    def of(cls, shipment: Shipment) -> "ParcelView":
        return cls(
            parcel_id=shipment.id, customer_id=shipment.customer_id, order_ids=shipment.order_ids,
            destination_country=shipment.destination_country, status=shipment.status, items=shipment.items,
            weight_kg=shipment.weight_kg, length_cm=shipment.length_cm, width_cm=shipment.width_cm,
            height_cm=shipment.height_cm,
            shipping=ShippingView.of(shipment.id, shipment.shipping) if shipment.shipping else None,
            bill=ShippingBillView.of(shipment) if getattr(shipment, "bill", None) else None,
            customs_declaration=shipment.customs_items,
            handover={k: shipment.handover[k] for k in ("carrier", "tracking_number")} if shipment.handover else None,
            tracking=sorted(shipment.tracking, key=lambda update: update["carrier_time"]),
            packed_at=shipment.created_on, version=shipment.version,
        )


class LineQuoteView(BaseModel):
    code: str
    name: str
    transit_days_min: int
    transit_days_max: int
    volumetric_divisor: int
    rate_per_kg: Decimal
    minimum_charge: Decimal
    chargeable_weight_kg: Decimal | None
    price: Decimal | None
    refused: bool
    reason: str | None
    reliability: dict | None = Field(default=None, description="this line's record from our own log")
    recommended: bool = False

    @classmethod
    def of(cls, offer: LineQuote, reliability: dict | None = None, recommended: bool = False) -> "LineQuoteView":
        line = offer.line
        return cls(code=line.code, name=line.name, transit_days_min=line.transit_days_min,
                   transit_days_max=line.transit_days_max, volumetric_divisor=line.volumetric_divisor,
                   rate_per_kg=line.rate_per_kg, minimum_charge=line.minimum_charge,
                   chargeable_weight_kg=offer.chargeable_weight_kg, price=offer.price, refused=offer.refused,
                   reason=offer.reason, reliability=reliability, recommended=recommended)


class QuoteView(BaseModel):
    parcel_id: UUID
    currency: Literal["CNY"] = "CNY"
    lines_version: str
    lines: list[LineQuoteView]
    duties: dict = Field(description="estimated duty and tax at the destination (customs table, versioned)")
    recommended_line: str | None = Field(description="the cheapest line that carries the parcel with a clean record")
    additional_charges: list[BillLineView] = Field(
        default=[], description="billed with whichever line is chosen: the insurance premium (if insured) and "
                                "each item's storage fees due")


class InsuranceRequest(Strict):
    insured: bool


class InsuranceView(BaseModel):
    parcel_id: UUID
    insured: bool
    declared_value: Decimal
    premium: Decimal
    currency: Literal["CNY"] = "CNY"
    rules_version: str

    @classmethod
    def of(cls, cover: InsuranceCover) -> "InsuranceView":
        return cls(parcel_id=cover.parcel_id, insured=cover.insured, declared_value=cover.declared_value,
                   premium=cover.premium, rules_version=INSURANCE_VERSION)


class WebhookAnswer(BaseModel):
    duplicate: bool
    parcel_id: UUID | None = None
    status: str | None = None
