"""Warehouse application: intake and matching, inspection and storage, shipment requests, packing."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, ContextManager
from uuid import UUID


from contracts.orders import QcResolutionChosen
from contracts.purchasing import DomesticShipmentRecorded
from service_runtime.auth import AUDITOR, SUPPORT_AGENT, WAREHOUSE_STAFF, Caller
from service_runtime.errors import Conflict, DomainError, NotFound
from service_runtime import timers
from services.warehouse import storage
from services.warehouse.codes import code_for, parse_code
from services.warehouse.domain import (
    AUTO_MATCH_STAFF,
    InboundParcel,
    Item,
    Parcel,
    inbound_id,
    item_aggregate_id,
    normalise_tracking_number,
)
from services.warehouse.packing import PackingPlan
from services.warehouse.photos_app import Photos
from services.warehouse.traceback_app import Traceback

STAFF_WHO_READ_ITEMS = (WAREHOUSE_STAFF, SUPPORT_AGENT, AUDITOR)
CODE_ATTEMPTS = 8  # another item already holding a derived code is rare; try the next derivation


class WarehouseApplication(Traceback, Photos):
    name = "warehouse"

    # Intake ---------------------------------------------------------------------------

    def receive_parcel(self, tracking_number: str, carrier: str, staff_id: str) -> dict[str, Any]:
        """A scanned parcel: matched to its purchase (each item gets its code) or queued as unmatched."""
        tracking = normalise_tracking_number(tracking_number)

        def attempt() -> tuple[list, dict[str, Any]]:
            inbound = self.find(inbound_id(tracking), InboundParcel) or InboundParcel(tracking_number=tracking)
            if inbound.pending_lines():
                items = self._receive(inbound, staff_id)
                return [inbound, *items], {"matched": True, "traceability_codes": [i.traceability_code for i in items]}
            receipt = inbound.arrive_unannounced(carrier, staff_id)
            return [inbound], {"matched": False, "receipt_id": receipt["receipt_id"]}

        return self.save_with_retry(attempt)

    def _receive(self, inbound: InboundParcel, staff_id: str) -> list[Item]:
        """Every pending line of a parcel gets its traceability code and becomes an item."""
        codes: dict[str, str] = {}
        items = []
        for line in inbound.pending_lines():
            code = self._free_code(inbound.id, line["task_id"], taken=set(codes.values()))
            codes[str(line["task_id"])] = code
            items.append(Item.from_line(line, code, staff_id, inbound.id))
        inbound.receive(codes=codes, staff_id=staff_id)
        return items

    def _free_code(self, inbound: UUID, task_id: UUID, taken: set[str]) -> str:
        for attempt in range(CODE_ATTEMPTS):
            code = code_for(inbound, task_id, *([attempt] if attempt else []))
            if code not in taken and item_aggregate_id(code) not in self.repository:
                return code
        raise Conflict(f"no free traceability code for inbound parcel {inbound}")

    # Items ----------------------------------------------------------------------------

    def item(self, code: str) -> Item:
        code = parse_code(code)  # a mistyped code is a 422, never another item
        item = self.find(item_aggregate_id(code), Item)
        if item is None:
            raise NotFound(f"no item with traceability code {code}")
        return item

    def loading_with_storage_timers(self, codes: list[str]) -> ContextManager[None]:
        """Items and their storage deadlines read from the store at once, not one by one."""
        codes = [parse_code(code) for code in codes]
        return self.loading_together(*(item_aggregate_id(code) for code in codes),
                                     *(timers.timer_id(f"storage.{milestone}", code)
                                       for code in codes for milestone in storage.MILESTONES))

    def item_for(self, caller: Caller, code: str) -> Item:
        """The item, if the caller may see it; otherwise the same 404 as a missing item."""
        item = self.item(code)
        if not caller.can_read_customer_data(item.customer_id, *STAFF_WHO_READ_ITEMS):
            raise NotFound(f"no item with traceability code {item.traceability_code}")
        return item

    def change_item(self, code: str, change: Callable[[Item], None]) -> Item:
        def attempt() -> tuple[list, Item]:
            item = self.item(code)
            change(item)
            return [item], item

        return self.save_with_retry(attempt)

    def record_special_inspection(self, code: str, checks: list[str], passed: bool, notes: str,
                                  staff_id: str) -> Item:
        return self.change_item(code, lambda item: item.record_special_inspection(checks, passed, notes, staff_id))

    def inspect(self, code: str, quantity_checked: int, exterior_condition: str, photos: list[str], notes: str,
                staff_id: str, counterfeit: bool = False) -> Item:
        self.check_photos(parse_code(code), photos)
        return self.change_item(code, lambda item: item.inspect(quantity_checked, exterior_condition, photos,
                                                                notes, staff_id, counterfeit))

    def store(self, code: str, location: str, staff_id: str) -> Item:
        """Shelve the item, with its storage deadlines (reminders, abandonment) in the same save."""
        def attempt() -> tuple[list, Item]:
            with self.loading_with_storage_timers([code]):
                item = self.item(code)
                now = self.clock.now()
                item.store(location, staff_id, stored_at=now)
                deadlines = [timers.schedule(self, f"storage.{milestone}", item.traceability_code,
                                             now + timedelta(days=days), {"stored_at": now.isoformat()},
                                             order_id=item.order_id)
                             for milestone, days in storage.MILESTONES.items()]
                return [item, *deadlines], item

        return self.save_with_retry(attempt)

    def on_storage_milestone(self, timer: timers.Timer, now: datetime) -> list[Item]:
        """A storage deadline fired: tell the customer (the notice is an event), with the fees so far."""
        item = self.find(item_aggregate_id(timer.subject), Item)
        if item is None or item.parcel_id is not None:
            return []
        state = storage.storage_state(datetime.fromisoformat(timer.data["stored_at"]), now)
        item.storage_notice(traceability_code=item.traceability_code, order_id=item.order_id,
                            customer_id=item.customer_id, milestone=timer.purpose.removeprefix("storage."),
                            days_stored=state["days_used"], fees_due=state["fees_due"], currency=state["currency"],
                            rules_version=state["rules_version"])
        return [item]

    # Shipment requests and packing ------------------------------------------------------

    def request_shipment(self, caller: Caller, codes: list[str], destination_country: str) -> Parcel:
        """The customer's own stored items, put together in a new parcel to ship."""
        codes = [parse_code(code) for code in codes]
        if len(set(codes)) != len(codes):
            raise DomainError("list each traceability code once")
        parcel_id = uuid.uuid4()

        def attempt() -> tuple[list, Parcel]:
            with self.loading_with_storage_timers(codes):
                items = [self.item(code) for code in codes]
                for item in items:
                    if item.customer_id != caller.subject:
                        raise NotFound(f"no item with traceability code {item.traceability_code}")
                for item in items:
                    item.reserve_for(parcel_id)
                moot = [timer for item in items for milestone in storage.MILESTONES
                        for timer in timers.cancel(self, f"storage.{milestone}", item.traceability_code)]
            parcel = Parcel(parcel_id=parcel_id, customer_id=caller.subject,
                            order_ids=sorted({i.order_id for i in items}, key=str), traceability_codes=codes,
                            destination_country=destination_country, items=[i.parcel_line() for i in items])
            return [parcel, *items, *moot], parcel

        return self.save_with_retry(attempt)

    def parcel(self, parcel_id: UUID) -> Parcel:
        parcel = self.find(parcel_id, Parcel)
        if parcel is None:
            raise NotFound(f"parcel {parcel_id} not found")
        return parcel

    def parcel_for(self, caller: Caller, parcel_id: UUID) -> Parcel:
        parcel = self.parcel(parcel_id)
        if not caller.can_read_customer_data(parcel.customer_id, *STAFF_WHO_READ_ITEMS):
            raise NotFound(f"parcel {parcel_id} not found")
        return parcel

    def packing_plan(self, parcel_id: UUID) -> PackingPlan:
        return self.parcel(parcel_id).plan()

    def pack(self, parcel_id: UUID, weight_kg: Decimal, length_cm: Decimal, width_cm: Decimal, height_cm: Decimal,
             materials: list[str], cushioning: str, staff_id: str) -> Parcel:
        def attempt() -> tuple[list, Parcel]:
            parcel = self.parcel(parcel_id)
            items = [self.item(code) for code in parcel.traceability_codes]
            for item in items:
                item.ensure_packable()
            now = self.clock.now()  # storage fees stop here: they are frozen on the packing event
            fees = [fee for item in items if (fee := item.storage_fee(now))]
            parcel.pack(weight_kg, length_cm, width_cm, height_cm, materials, cushioning, staff_id, fees)
            for item in items:
                item.mark_packed(parcel_id=parcel.parcel_id)
            return [parcel, *items], parcel

        return self.save_with_retry(attempt)

    # Reactions to purchasing and orders ----------------------------------------------------

    def on_domestic_shipment_recorded(self, payload: DomesticShipmentRecorded, _envelope: Any) -> list:
        """Expect the parcel; if it already arrived (unmatched), match it now."""
        tracking = normalise_tracking_number(payload.tracking_number)
        line = {**payload.model_dump(exclude={"agent_id"}), "tracking_number": tracking}
        inbound = self.find(inbound_id(tracking), InboundParcel) or InboundParcel(tracking_number=tracking)
        inbound.expect(line)
        if not inbound.received or not inbound.pending_lines():
            return [inbound]
        items = self._receive(inbound, AUTO_MATCH_STAFF)  # leaves the unmatched queue (projection)
        return [inbound, *items]

    def on_qc_resolution_chosen(self, payload: QcResolutionChosen, _envelope: Any) -> list[Item]:
        """Remember the customer's choice after a failed inspection (refund or return: never packed)."""
        item = self.item(payload.traceability_code)
        if (item.order_id, item.line_no) != (payload.order_id, payload.line_no):
            raise DomainError(f"item {item.traceability_code} is not line {payload.line_no} of order {payload.order_id}")
        item.record_qc_resolution(payload.choice)
        return [item]
