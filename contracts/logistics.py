"""Events published by the logistics service on `kongfu.logistics.events`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

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
