"""Events published by the logistics service on `kongfu.logistics.events`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from contracts.common import DeclaredItemV1
from contracts.registry import EventPayload, register

TrackingStatus = Literal["in_transit", "customs_cleared", "out_for_delivery", "delivered", "exception"]


@register
class ShippingLineChosen(EventPayload):
    event_type = "logistics.ShippingLineChosen"
    parcel_id: UUID
    customer_id: str
    order_ids: list[UUID]
    line_code: str
    chargeable_weight_kg: Decimal
    amount: Decimal
    currency: Literal["CNY"]
    payment_id: UUID
    method: str


@register
class CustomsDeclared(EventPayload):
    event_type = "logistics.CustomsDeclared"
    parcel_id: UUID
    order_ids: list[UUID]
    destination_country: str
    items: list[DeclaredItemV1]
    staff_id: str


@register
class ParcelShipped(EventPayload):
    event_type = "logistics.ParcelShipped"
    parcel_id: UUID
    order_ids: list[UUID]
    traceability_codes: list[str]
    line_code: str
    carrier: str
    tracking_number: str
    staff_id: str


@register
class TrackingUpdated(EventPayload):
    event_type = "logistics.TrackingUpdated"
    parcel_id: UUID
    order_ids: list[UUID]
    traceability_codes: list[str]
    status: TrackingStatus
    carrier: str
    carrier_event_id: str
    location: str
    carrier_time: datetime


@register
class ReceiptConfirmed(EventPayload):
    event_type = "logistics.ReceiptConfirmed"
    parcel_id: UUID
    customer_id: str
    order_ids: list[UUID]
    traceability_codes: list[str]


@register
class InsuranceChosen(EventPayload):
    """The customer bought shipping insurance for a parcel, or declined it. `premium` is what
    insurance costs (0 when declined), by the published insurance rules of `rules_version`."""

    event_type = "logistics.InsuranceChosen"
    parcel_id: UUID
    customer_id: str
    order_ids: list[UUID]
    insured: bool
    declared_value: Decimal
    premium: Decimal
    currency: Literal["CNY"]
    rules_version: str


@register
class CarrierIncidentReported(EventPayload):
    """The carrier reports that a parcel will not arrive: lost, seized by customs, or returned
    by customs. Published beside the carrier's `exception` tracking update."""

    event_type = "logistics.CarrierIncidentReported"
    parcel_id: UUID
    order_ids: list[UUID]
    incident: Literal["lost", "seized", "returned_by_customs"]
    carrier: str
    carrier_event_id: str
    location: str
    carrier_time: datetime


@register
class CustomsStatusReported(EventPayload):
    """A carrier reports that customs holds or seized the parcel, or released a hold."""

    event_type = "logistics.CustomsStatusReported"
    parcel_id: UUID
    order_ids: list[UUID]
    traceability_codes: list[str]
    status: Literal["customs_hold", "customs_seized", "customs_released"]
    carrier: str
    carrier_event_id: str
    location: str
    carrier_time: datetime


class BillLineV1(BaseModel):
    """One line of a parcel's bill: the chosen line's price, the insurance premium, an item's
    storage fees (with its traceability code)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: Literal["shipping", "insurance_premium", "storage_fee"]
    label: str
    amount: Decimal
    traceability_code: str | None = None


@register
class ShippingBilled(EventPayload):
    """The customer chose a line: logistics is owed `total` for the parcel, itemised and frozen
    as of now. Payments learns the bill; the customer pays it there (`POST /payments/shipping/{parcel_id}`)."""

    event_type = "logistics.ShippingBilled"
    parcel_id: UUID
    customer_id: str
    order_ids: list[UUID]
    line_code: str
    chargeable_weight_kg: Decimal
    lines: list[BillLineV1]
    total: Decimal
    currency: Literal["CNY"]
    lines_version: str
