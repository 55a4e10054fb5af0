"""Warehouse aggregates: inbound parcels the merchants announced, the queue of parcels nobody
announced, items by traceability code (intake, inspection, storage) and parcels to ship."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from contracts.common import HIGH_RISK_CATEGORIES
from service_runtime.errors import Conflict, DomainError
from service_runtime.tracing import TracedAggregate, stable_id
from services.warehouse import packing, quality, storage

AUTO_MATCH_STAFF = "system:auto-match"
NEVER_PACKED = ("refund", "return_to_merchant")  # the customer's choices after a failed inspection


def normalise_tracking_number(text: str) -> str:
    number = "".join(text.split()).replace("-", "").upper()
    if not (number.isascii() and number.isalnum()):
        raise DomainError("a tracking number has letters and digits only (spaces and dashes are ignored)")
    return number


def inbound_id(tracking_number: str) -> UUID:
    return stable_id("inbound", tracking_number)


def item_aggregate_id(traceability_code: str) -> UUID:
    return stable_id("item", traceability_code)


UNMATCHED_QUEUE_ID = stable_id("unmatched-queue")


class InboundParcel(TracedAggregate):
    """A parcel to or at our door, by tracking number: the purchase lines it carries (usually one)
    and whether it arrived. A scan and a shipment record both write here, so a race between them
    is a version conflict (retried), never a parcel left unmatched."""

    @staticmethod
    def create_id(tracking_number: str) -> UUID:
        return inbound_id(tracking_number)

    @event("Opened")
    def __init__(self, tracking_number: str) -> None:
        self.tracking_number = tracking_number
        self.lines: list[dict] = []
        self.received_by: str | None = None

    @property
    def received(self) -> bool:
        return self.received_by is not None

    def expect(self, line: dict) -> None:
        """A purchase line shipped in this parcel; the same line twice adds nothing."""
        if not any(l["task_id"] == line["task_id"] for l in self.lines):
            self._expect(line=line)

    @event("LineExpected")
    def _expect(self, line: dict) -> None:
        self.lines.append({**line, "traceability_code": None})

    def pending_lines(self) -> list[dict]:
        return [l for l in self.lines if l["traceability_code"] is None]

    def arrive_unannounced(self, carrier: str, staff_id: str) -> dict:
        """Scanned before its shipment record: it waits in the unmatched queue (a projection of
        these events), written only here, so concurrent scans of different parcels never meet."""
        if self.received:
            raise Conflict(f"parcel {self.tracking_number} was already received")
        receipt_id = stable_id("unmatched-receipt", self.tracking_number)
        self._park_unmatched(receipt_id=receipt_id, tracking_number=self.tracking_number, carrier=carrier,
                             staff_id=staff_id)
        return {"receipt_id": receipt_id}

    @event("ParcelReceived")
    def _park_unmatched(self, receipt_id: UUID, tracking_number: str, carrier: str, staff_id: str) -> None:
        self.received_by = staff_id

    @event("ArrivedUnannounced")
    def _arrive_unannounced(self, carrier: str, staff_id: str) -> None:
        """Stored before the queue was split (its ParcelReceived went to the UnmatchedQueue)."""
        self.received_by = staff_id

    @event("Received")
    def receive(self, codes: dict, staff_id: str) -> None:
        """`codes`: task id (str) -> the traceability code its item got."""
        for line in self.lines:
            line["traceability_code"] = codes.get(str(line["task_id"]), line["traceability_code"])
        self.received_by = self.received_by or staff_id


class UnmatchedQueue(TracedAggregate):
    """The former single unmatched-parcel aggregate: every early scan wrote it, so a burst of
    scans conflicted (409). No longer written; kept so that its stored events still load. The
    queue is now the `unmatched_parcels` projection of InboundParcel.ParcelReceived events."""

    @staticmethod
    def create_id() -> UUID:
        return UNMATCHED_QUEUE_ID

    @event("Opened")
    def __init__(self) -> None:
        self.parcels: dict[str, dict] = {}  # tracking number -> receipt

    def holds(self, tracking_number: str) -> bool:
        return tracking_number in self.parcels

    def receive(self, tracking_number: str, carrier: str, staff_id: str, received_at: datetime) -> dict:
        if self.holds(tracking_number):
            raise Conflict(f"parcel {tracking_number} was already received; it waits in the unmatched queue")
        self._receive(receipt_id=stable_id("unmatched-receipt", tracking_number), tracking_number=tracking_number,
                      carrier=carrier, staff_id=staff_id, received_at=received_at)
        return self.parcels[tracking_number]

    @event("ParcelReceived")
    def _receive(self, receipt_id: UUID, tracking_number: str, carrier: str, staff_id: str,
                 received_at: datetime) -> None:
        self.parcels[tracking_number] = {"receipt_id": receipt_id, "tracking_number": tracking_number,
                                         "carrier": carrier, "received_by": staff_id, "received_at": received_at}

    def match(self, tracking_number: str, inbound: UUID) -> None:
        if self.holds(tracking_number):
            self._match(receipt_id=self.parcels[tracking_number]["receipt_id"], tracking_number=tracking_number,
                        inbound_id=inbound)

    @event("ParcelMatched")
    def _match(self, receipt_id: UUID, tracking_number: str, inbound_id: UUID) -> None:
        self.parcels.pop(tracking_number, None)


class Item(TracedAggregate):
    """One purchased line in the warehouse, known by its traceability code."""

    @staticmethod
    def create_id(traceability_code: str) -> UUID:
        return item_aggregate_id(traceability_code)

    @event("Received")
    def __init__(self, traceability_code: str, order_id: UUID, customer_id: str, line_no: int, task_id: UUID,
                 tracking_number: str, platform: str, item_id: str, sku: str, quantity_expected: int,
                 category: str, amount_paid: Decimal, merchant_id: str, merchant_name: str,
                 platform_order_no: str, receipt_ref: str, staff_id: str, inbound_id: UUID) -> None:
        self.traceability_code, self.order_id, self.customer_id = traceability_code, order_id, customer_id
        self.line_no, self.task_id, self.tracking_number = line_no, task_id, tracking_number
        self.platform, self.item_id, self.sku = platform, item_id, sku
        self.quantity_expected, self.category, self.amount_paid = quantity_expected, category, amount_paid
        self.merchant_id, self.merchant_name = merchant_id, merchant_name
        self.platform_order_no, self.receipt_ref = platform_order_no, receipt_ref
        self.received_by, self.inbound_id = staff_id, inbound_id
        self.special_inspection: dict | None = None
        self.inspection: dict | None = None
        self.location: str | None = None
        self.qc_resolution: str | None = None
        self.parcel_id: UUID | None = None
        self.packed = False

    @classmethod
    def from_line(cls, line: dict, traceability_code: str, staff_id: str, inbound: UUID) -> "Item":
        return cls(traceability_code=traceability_code, order_id=line["order_id"], customer_id=line["customer_id"],
                   line_no=line["line_no"], task_id=line["task_id"], tracking_number=line["tracking_number"],
                   platform=line["platform"], item_id=line["item_id"], sku=line["sku"],
                   quantity_expected=line["quantity"], category=line["category"], amount_paid=line["amount_paid"],
                   merchant_id=line["merchant_id"], merchant_name=line["merchant_name"],
                   platform_order_no=line["platform_order_no"], receipt_ref=line["receipt_ref"],
                   staff_id=staff_id, inbound_id=inbound)

    @property
    def status(self) -> str:
        if getattr(self, "recall", None) is not None and not self.packed:
            return "held_for_recall"
        if self.packed:
            return "packed"
        if self.parcel_id is not None:
            return "awaiting_packing"
        if self.location is not None:
            return "stored"
        if self.inspection is not None:
            return "passed_inspection" if self.inspection["passed"] else "failed_inspection"
        if quality.needs_special_inspection(self.category) and self.special_inspection is None:
            return "awaiting_special_inspection"
        return "awaiting_inspection"

    # Inspection and storage ------------------------------------------------------------

    def record_special_inspection(self, checks: list[str], passed: bool, notes: str, inspector_id: str) -> None:
        if not quality.needs_special_inspection(self.category):
            raise Conflict(f"special inspection is for high-risk categories ({', '.join(HIGH_RISK_CATEGORIES)}); "
                           f"item {self.traceability_code} is {self.category}")
        if self.special_inspection is not None:
            raise Conflict(f"item {self.traceability_code} already has a special-inspection record")
        if self.inspection is not None:
            raise Conflict(f"item {self.traceability_code} was already inspected")
        self._record_special_inspection(traceability_code=self.traceability_code, category=self.category,
                                        checks=list(checks), passed=passed, notes=notes, inspector_id=inspector_id)

    @event("SpecialInspectionRecorded")
    def _record_special_inspection(self, traceability_code: str, category: str, checks: list, passed: bool,
                                   notes: str, inspector_id: str) -> None:
        self.special_inspection = {"checks": list(checks), "passed": passed, "notes": notes}

    def inspect(self, quantity_checked: int, exterior_condition: str, photos: list[str], notes: str,
                staff_id: str, counterfeit: bool = False) -> None:
        if self.inspection is not None:
            raise Conflict(f"item {self.traceability_code} was already inspected")
        if len(set(photos)) < quality.MINIMUM_PHOTOS:
            raise DomainError(f"an inspection needs at least {quality.MINIMUM_PHOTOS} different photos")
        special = self.special_inspection["passed"] if self.special_inspection else None
        result = quality.assess(self.category, self.quantity_expected, quantity_checked, exterior_condition, special,
                                counterfeit)
        self._inspect(traceability_code=self.traceability_code, customer_id=self.customer_id, line_no=self.line_no,
                      quantity_checked=quantity_checked, exterior_condition=exterior_condition, photos=list(photos),
                      passed=result.passed, issues=list(result.issues), notes=notes,
                      rules_version=quality.RULES_VERSION, staff_id=staff_id)

    @event("Inspected")
    def _inspect(self, traceability_code: str, customer_id: str, line_no: int, quantity_checked: int,
                 exterior_condition: str, photos: list, passed: bool, issues: list, notes: str, rules_version: str,
                 staff_id: str) -> None:
        self.inspection = {"quantity_checked": quantity_checked, "exterior_condition": exterior_condition,
                           "photos": list(photos), "passed": passed, "issues": list(issues), "notes": notes,
                           "rules_version": rules_version}

    def store(self, location: str, staff_id: str, stored_at: datetime | None = None) -> None:
        if self.inspection is None or not self.inspection["passed"]:
            raise Conflict(f"item {self.traceability_code} can be stored only after it passed quality inspection "
                           f"(it is {self.status.replace('_', ' ')})")
        if self.location is not None:
            raise Conflict(f"item {self.traceability_code} is already stored at {self.location}")
        self._store(traceability_code=self.traceability_code, location=location, staff_id=staff_id,
                    stored_at=stored_at)

    @event("Stored")
    def _store(self, traceability_code: str, location: str, staff_id: str, stored_at: datetime | None = None) -> None:
        self.location = location
        self.stored_at = stored_at  # by the service's clock, for the storage fees due at packing

    def storage_fee(self, now: datetime) -> dict | None:
        """The fees due if the item leaves the shelf now (None for an item stored before we
        recorded when, or never stored)."""
        stored_at = getattr(self, "stored_at", None)
        if stored_at is None:
            return None
        state = storage.storage_state(stored_at, now)
        return {"traceability_code": self.traceability_code, "days_stored": state["days_used"],
                "fee_days": state["fee_days"], "amount": Decimal(state["fees_due"]),
                "rules_version": state["rules_version"]}

    def record_qc_resolution(self, choice: str) -> None:
        if self.qc_resolution != choice:
            self._record_qc_resolution(choice=choice)

    @event("QcResolutionRecorded")
    def _record_qc_resolution(self, choice: str) -> None:
        self.qc_resolution = choice

    # Shipping -------------------------------------------------------------------------

    def ensure_packable(self) -> None:
        recall = getattr(self, "recall", None)
        if recall is not None:
            raise Conflict(f"item {self.traceability_code} is held: its batch was recalled ({recall['reason']})")
        if self.qc_resolution in NEVER_PACKED:
            raise Conflict(f"the customer chose {self.qc_resolution.replace('_', ' ')} for item "
                           f"{self.traceability_code}; it can never be packed")

    def reserve_for(self, parcel_id: UUID) -> None:
        self.ensure_packable()
        if self.parcel_id is not None:
            raise Conflict(f"item {self.traceability_code} is already in a shipment request")
        if self.location is None:
            raise Conflict(f"item {self.traceability_code} is not stored yet (it is {self.status.replace('_', ' ')})")
        self._reserve(parcel_id=parcel_id)

    @event("ReservedForParcel")
    def _reserve(self, parcel_id: UUID) -> None:
        self.parcel_id = parcel_id

    @event("PackedInParcel")
    def mark_packed(self, parcel_id: UUID) -> None:
        self.packed = True

    @event("StorageNoticeDue")
    def storage_notice(self, traceability_code: str, order_id: UUID, customer_id: str, milestone: str,
                       days_stored: int, fees_due: str, currency: str, rules_version: str) -> None:
        """A storage reminder or the abandonment notice (services/warehouse/storage.py)."""
        if milestone == "abandoned":
            self.abandoned = True

    def recall_for(self, recall_id: UUID, reason: str) -> bool:
        """Hold the item for a recall; False if a recall holds it already. A packed item has left."""
        if getattr(self, "recall", None) is not None:
            return False
        self._recalled(traceability_code=self.traceability_code, customer_id=self.customer_id,
                       line_no=self.line_no, recall_id=recall_id, reason=reason, shipped=self.packed,
                       parcel_id=self.parcel_id if self.packed else None)
        return True

    @event("Recalled")
    def _recalled(self, traceability_code: str, customer_id: str, line_no: int, recall_id: UUID, reason: str,
                  shipped: bool, parcel_id: UUID | None) -> None:
        self.recall = {"recall_id": recall_id, "reason": reason, "shipped": shipped}

    def parcel_line(self) -> dict:
        """The item as it travels: ParcelItemV1's fields (value = what the merchant was paid)."""
        quantity = self.inspection["quantity_checked"] if self.inspection else self.quantity_expected
        return {"traceability_code": self.traceability_code, "order_id": self.order_id, "line_no": self.line_no,
                "sku": self.sku, "quantity": quantity, "category": self.category, "value": self.amount_paid}


class Parcel(TracedAggregate):
    """What a customer asked to ship together, then how it was packed."""

    @staticmethod
    def create_id(parcel_id: UUID) -> UUID:
        return parcel_id

    @event("ConsolidationRequested")
    def __init__(self, parcel_id: UUID, customer_id: str, order_ids: list, traceability_codes: list,
                 destination_country: str, items: list) -> None:
        self.parcel_id, self.customer_id = parcel_id, customer_id
        self.order_ids, self.traceability_codes = list(order_ids), list(traceability_codes)
        self.destination_country = destination_country
        self.items = [dict(i) for i in items]
        self.packing: dict | None = None

    def plan(self) -> packing.PackingPlan:
        return packing.plan_for(i["category"] for i in self.items)

    def pack(self, weight_kg: Decimal, length_cm: Decimal, width_cm: Decimal, height_cm: Decimal,
             materials: list[str], cushioning: str, staff_id: str, storage_fees: list | None = None) -> None:
        if self.packing is not None:
            raise Conflict(f"parcel {self.parcel_id} is already packed")
        if min(weight_kg, length_cm, width_cm, height_cm) <= 0:
            raise DomainError("weight and dimensions must be greater than zero")
        reinforced = packing.check_packing(self.plan(), materials)
        self._pack(parcel_id=self.parcel_id, customer_id=self.customer_id, order_ids=self.order_ids,
                   destination_country=self.destination_country, items=self.items, weight_kg=weight_kg,
                   length_cm=length_cm, width_cm=width_cm, height_cm=height_cm, materials=list(materials),
                   cushioning=cushioning, reinforced=reinforced, staff_id=staff_id,
                   storage_fees=list(storage_fees or []))

    @event("Packed")
    def _pack(self, parcel_id: UUID, customer_id: str, order_ids: list, destination_country: str, items: list,
              weight_kg: Decimal, length_cm: Decimal, width_cm: Decimal, height_cm: Decimal, materials: list,
              cushioning: str, reinforced: bool, staff_id: str, storage_fees: list | None = None) -> None:
        self.packing = {"weight_kg": weight_kg, "length_cm": length_cm, "width_cm": width_cm,
                        "height_cm": height_cm, "materials": list(materials), "cushioning": cushioning,
                        "reinforced": reinforced, "packed_by": staff_id}
