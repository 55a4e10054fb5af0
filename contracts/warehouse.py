"""Events published by the warehouse service on `kongfu.warehouse.events`."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from contracts.common import Category, ParcelItemV1
from contracts.registry import EventPayload, register, upcaster


@register
class ItemReceived(EventPayload):
    """An inbound parcel matched its purchase; the item got its traceability code."""

    event_type = "warehouse.ItemReceived"
    traceability_code: str
    order_id: UUID
    customer_id: str
    line_no: int
    task_id: UUID
    tracking_number: str
    platform: str
    item_id: str
    sku: str
    quantity_expected: int
    category: Category
    amount_paid: Decimal
    merchant_id: str
    merchant_name: str
    platform_order_no: str
    receipt_ref: str
    staff_id: str


@register
class UnmatchedParcelReceived(EventPayload):
    event_type = "warehouse.UnmatchedParcelReceived"
    receipt_id: UUID
    tracking_number: str
    carrier: str
    staff_id: str


@register
class SpecialInspectionRecorded(EventPayload):
    event_type = "warehouse.SpecialInspectionRecorded"
    traceability_code: str
    order_id: UUID
    category: Category
    checks: list[str]
    passed: bool
    notes: str
    inspector_id: str


# The inspection issue that marks an item counterfeit: it never ships, claims publishes
# claims.CounterfeitConfirmed and the refund comes from that (never from the customer's QC choice).
COUNTERFEIT = "counterfeit"


@register
class ItemInspected(EventPayload):
    event_type = "warehouse.ItemInspected"
    traceability_code: str
    order_id: UUID
    customer_id: str
    line_no: int
    quantity_checked: int
    exterior_condition: str
    photos: list[str]
    passed: bool
    issues: list[str]
    staff_id: str


@register
class ItemStored(EventPayload):
    event_type = "warehouse.ItemStored"
    traceability_code: str
    order_id: UUID
    location: str
    staff_id: str


@register
class ConsolidationRequested(EventPayload):
    event_type = "warehouse.ConsolidationRequested"
    parcel_id: UUID
    customer_id: str
    order_ids: list[UUID]
    traceability_codes: list[str]
    destination_country: str


@register
class ParcelPacked(EventPayload):
    event_type = "warehouse.ParcelPacked"
    parcel_id: UUID
    customer_id: str
    order_ids: list[UUID]
    destination_country: str
    items: list[ParcelItemV1]
    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal
    materials: list[str]
    cushioning: str
    reinforced: bool
    staff_id: str


@register
class StorageNoticeDue(EventPayload):
    """A stored item reached a storage milestone: a reminder (60, 80 days) or abandonment (180)."""

    event_type = "warehouse.StorageNoticeDue"
    traceability_code: str
    order_id: UUID
    customer_id: str
    milestone: Literal["reminder_60", "reminder_80", "abandoned"]
    days_stored: int
    fees_due: Decimal
    currency: str
    rules_version: str


@register
class ItemRecalled(EventPayload):
    """The item's batch was found defective. Not shipped: it is held, and its customer is offered a
    refund or a re-purchase. Shipped (`shipped`, with its parcel): after-sales opens a claim for it."""

    event_type = "warehouse.ItemRecalled"
    traceability_code: str
    order_id: UUID
    customer_id: str
    line_no: int
    recall_id: UUID
    reason: str
    shipped: bool
    parcel_id: UUID | None


@register
class RecallIssued(EventPayload):
    event_type = "warehouse.RecallIssued"
    recall_id: UUID
    reason: str
    criteria: dict[str, str]
    held: list[str]
    shipped: list[str]
    issued_by: str


class QualityRowV1(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    platform: str
    merchant_id: str
    category: str
    inspected: int
    failed: int
    failure_rate: Decimal


@register
class QualityTracebackReported(EventPayload):
    """The weekly quality traceback: QC failure rate by merchant and category (for analytics)."""

    event_type = "warehouse.QualityTracebackReported"
    week: str
    report_version: str
    rows: list[QualityRowV1]
    triggered_by: str


class StorageFeeV1(BaseModel):
    """An item's storage fees due when its parcel was packed (services/warehouse/storage.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    traceability_code: str
    days_stored: int
    fee_days: int
    amount: Decimal
    rules_version: str


@register
class ParcelPackedV2(ParcelPacked):
    """v2: the storage fees due for each item at packing, so logistics can bill them with the
    shipping (fees stop accruing once the items are packed to ship)."""

    schema_version = 2
    storage_fees: list[StorageFeeV1] = []


@upcaster("warehouse.ParcelPacked", 1)
def _parcel_packed_v1_to_v2(data: dict) -> dict:
    return {**data, "storage_fees": []}
