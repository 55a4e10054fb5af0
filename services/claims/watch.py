"""Claims watching parcels and orders: facts from other services, deadlines, automatic claims.

Reactions note what the warehouse, logistics, orders and purchasing publish, and schedule the
deadlines of the guarantees as durable timers (`service_runtime/timers.py`): a parcel with no
carrier scan for 10 days is lost; one undelivered 60 days after dispatch is delayed; an order
not purchased within 24 hours of payment gets its service fee back. A carrier's lost, seized or
returned report opens its claim at once. Each automatic claim is decided by the same policy.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any, Callable

from contracts.logistics import (
    CarrierIncidentReported,
    CustomsStatusReported,
    InsuranceChosen,
    ParcelShipped,
    ReceiptConfirmed,
    ShippingLineChosen,
    TrackingUpdated,
)
from contracts.orders import LineCancelled, OrderPlaced, PaymentRecorded
from contracts.purchasing import DomesticShipmentRecorded, ItemPurchased
from contracts.warehouse import COUNTERFEIT, ItemInspected, ItemReceived, ParcelPacked
from service_runtime import timers
from service_runtime.timers import Timer
from services.claims.counterfeit import Counterfeit, confirmed_counterfeit, counterfeit_id
from services.claims.domain import ClaimsParcel, parcel_facts_id
from services.claims.guarantees import (
    PARCEL_DELAYED,
    PARCEL_SILENT,
    PURCHASE_SLA,
    PURCHASE_SLA_HOURS,
    ClaimsOrder,
    order_facts_id,
)
from services.claims.tickets import FIRST_ANSWER_DUE
from services.claims.windows import DELAYED_AFTER_DAYS, LOST_AFTER_SILENT_DAYS

INCIDENT_TEXT = {
    "lost": "The carrier reports the parcel lost.",
    "seized": "Customs seized the parcel.",
    "returned_by_customs": "Customs returned the parcel.",
}


def with_parcel_deadlines(handler: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    """The event's parcel and its two deadlines read from the store at once, not one by one."""
    @functools.wraps(handler)
    def handle(self: Any, payload: Any, envelope: Any) -> list[Any]:
        parcel_id = payload.parcel_id
        with self.loading_together(parcel_facts_id(parcel_id), timers.timer_id(PARCEL_SILENT, parcel_id),
                                   timers.timer_id(PARCEL_DELAYED, parcel_id)):
            return handler(self, payload, envelope)
    return handle


class ParcelWatch:
    """Mixed into `ClaimsApplication` (which provides parcel(), find(), clock and the deciders)."""

    def _parcel_or_new(self, parcel_id: Any) -> ClaimsParcel:
        # Topics interleave: a logistics fact may arrive before the warehouse's packing.
        return self.parcel(parcel_id) or ClaimsParcel(parcel_id=parcel_id)

    # Warehouse and logistics ----------------------------------------------------------

    def on_parcel_packed(self, payload: ParcelPacked, _envelope: Any) -> list[ClaimsParcel]:
        parcel = self._parcel_or_new(payload.parcel_id)
        parcel.note_packing(payload.customer_id, list(payload.order_ids), [
            {"traceability_code": i.traceability_code, "order_id": i.order_id, "line_no": i.line_no,
             "sku": i.sku, "quantity": i.quantity, "value": i.value, "category": i.category} for i in payload.items])
        return [parcel, *self.receipt_survey(parcel), *self.compensate_earlier_incident(parcel)]

    def on_shipping_line_chosen(self, payload: ShippingLineChosen, _envelope: Any) -> list[ClaimsParcel]:
        parcel = self._parcel_or_new(payload.parcel_id)
        parcel.note_shipping_fee(payload.amount, payload.payment_id)
        parcel.note_line(payload.line_code, payload.chargeable_weight_kg)
        return [parcel]

    def on_insurance_chosen(self, payload: InsuranceChosen, _envelope: Any) -> list[ClaimsParcel]:
        parcel = self._parcel_or_new(payload.parcel_id)
        parcel.note_insurance(payload.insured, payload.declared_value, payload.premium)
        return [parcel]

    @with_parcel_deadlines
    def on_parcel_shipped(self, payload: ParcelShipped, envelope: Any) -> list[Any]:
        parcel = self._parcel_or_new(payload.parcel_id)
        parcel.note_dispatch(envelope.occurred_at)
        order_id = payload.order_ids[0] if payload.order_ids else None
        return [parcel,
                timers.schedule(self, PARCEL_SILENT, parcel.parcel_id,
                                parcel.last_scan_at + timedelta(days=LOST_AFTER_SILENT_DAYS), order_id=order_id),
                timers.schedule(self, PARCEL_DELAYED, parcel.parcel_id,
                                parcel.shipped_at + timedelta(days=DELAYED_AFTER_DAYS), order_id=order_id)]

    @with_parcel_deadlines
    def on_tracking_updated(self, payload: TrackingUpdated, _envelope: Any) -> list[Any]:
        parcel = self._parcel_or_new(payload.parcel_id)
        parcel.note_scan(payload.carrier_time)
        if payload.status == "delivered":
            parcel.note_delivery(payload.carrier_time, payload.carrier_event_id)
            return [parcel, *timers.cancel(self, PARCEL_SILENT, parcel.parcel_id),
                    *timers.cancel(self, PARCEL_DELAYED, parcel.parcel_id)]
        if parcel.shipped_at is None or parcel.delivered_or_received_at is not None:
            return [parcel]
        # Each scan moves the silence deadline: lost means no scan for N days after the last one.
        return [parcel, timers.schedule(self, PARCEL_SILENT, parcel.parcel_id,
                                        parcel.last_scan_at + timedelta(days=LOST_AFTER_SILENT_DAYS))]

    @with_parcel_deadlines
    def on_receipt_confirmed(self, payload: ReceiptConfirmed, envelope: Any) -> list[Any]:
        parcel = self._parcel_or_new(payload.parcel_id)
        parcel.note_receipt(envelope.occurred_at)
        return [parcel, *timers.cancel(self, PARCEL_SILENT, parcel.parcel_id),
                *timers.cancel(self, PARCEL_DELAYED, parcel.parcel_id), *self.receipt_survey(parcel)]

    def receipt_survey(self, parcel: ClaimsParcel) -> list[Any]:
        """The survey after receipt, once the parcel is known both as packed (warehouse's topic) and
        as received (logistics' topic): the two are consumed independently, so either may come last."""
        if not (parcel.is_packed and parcel.receipt_confirmed):
            return []
        return self.offer_survey("receipt", parcel.parcel_id, parcel.customer_id, parcel.order_ids[0], None,
                                 parcel.line_code)

    def compensate_earlier_incident(self, parcel: ClaimsParcel) -> list[Any]:
        """An incident noted before the parcel was known as packed (logistics' topic ahead of the
        warehouse's) could not be compensated then: it is now. The claim's id derives from the
        parcel, so whichever of the two comes last opens it, and only once."""
        if parcel.incident is None:
            return []
        kind, source = parcel.incident["incident"], parcel.incident["source"]
        description = (f"No carrier scan for {LOST_AFTER_SILENT_DAYS} days: the parcel is lost."
                       if source == "no-scan" else INCIDENT_TEXT[kind])
        return self.compensate_automatically(parcel, kind, description, key=parcel.parcel_id)

    @with_parcel_deadlines
    def on_carrier_incident(self, payload: CarrierIncidentReported, _envelope: Any) -> list[Any]:
        parcel = self._parcel_or_new(payload.parcel_id)
        if not parcel.note_incident(payload.incident, payload.carrier_time, f"carrier:{payload.carrier}"):
            return [parcel]
        return [parcel, *timers.cancel(self, PARCEL_SILENT, parcel.parcel_id),
                *self.compensate_automatically(parcel, payload.incident,
                                               f"{INCIDENT_TEXT[payload.incident]} ({payload.location})",
                                               key=parcel.parcel_id)]

    def on_customs_status(self, payload: CustomsStatusReported, envelope: Any) -> list[Any]:
        """A seizure reported as a customs status is the same fate as a carrier's seizure report."""
        if payload.status != "customs_seized":
            return []
        return self.on_carrier_incident(CarrierIncidentReported(
            parcel_id=payload.parcel_id, order_ids=payload.order_ids, incident="seized", carrier=payload.carrier,
            carrier_event_id=payload.carrier_event_id, location=payload.location,
            carrier_time=payload.carrier_time), envelope)

    # Timers of the parcel guarantees ---------------------------------------------------

    def on_parcel_silent(self, timer: Timer, now: datetime) -> list[Any]:
        parcel = self.parcel(timer.subject)
        if parcel is None or parcel.delivered_or_received_at or parcel.incident:
            return []
        description = (f"No carrier scan for {LOST_AFTER_SILENT_DAYS} days since "
                       f"{parcel.last_scan_at.isoformat()}: the parcel is lost.")
        parcel.note_incident("lost", now, "no-scan")
        return [parcel, *self.compensate_automatically(parcel, "lost", description, key=parcel.parcel_id)]

    def on_parcel_delayed(self, timer: Timer, now: datetime) -> list[Any]:
        parcel = self.parcel(timer.subject)
        if parcel is None or parcel.delivered_or_received_at:
            return []
        description = (f"Not delivered {DELAYED_AFTER_DAYS} days after dispatch on "
                       f"{parcel.shipped_at.isoformat()}.")
        return self.compensate_automatically(parcel, "delayed", description, key=parcel.parcel_id)

    # Orders and purchasing: the 24-hour purchase guarantee ------------------------------

    def _order_facts(self, order_id: Any) -> ClaimsOrder:
        # Topics interleave: purchasing's or the warehouse's facts may come before orders.OrderPlaced.
        return self.find(order_facts_id(order_id), ClaimsOrder) or ClaimsOrder(order_id=order_id)

    def on_order_placed(self, payload: OrderPlaced, _envelope: Any) -> list[Any]:
        fee = next((line.amount for line in payload.quote.lines if line.code == "service_fee"), None)
        if fee is None:
            return []
        details = {"customer_id": payload.customer_id, "line_nos": [line.line_no for line in payload.lines],
                   "service_fee": fee,
                   "line_amounts": {str(line.line_no): str(line.unit_price * line.quantity) for line in payload.lines}}
        order = self.find(order_facts_id(payload.order_id), ClaimsOrder)
        if order is None:
            return [ClaimsOrder(order_id=payload.order_id, **details)]
        if not order.note_placed(**details):
            return []
        confirmed = [self.counterfeit_of(order, line_no, found["traceability_code"], "inspection",
                                         found["evidence"], found["confirmed_by"])
                     for line_no, found in order.counterfeits_found().items()]
        return [order, *filter(None, confirmed)]

    def on_domestic_shipment(self, payload: DomesticShipmentRecorded, envelope: Any) -> list[Any]:
        order = self._order_facts(payload.order_id)
        order.note_merchant_shipment(payload.line_no, envelope.occurred_at)
        return [order]

    def on_item_received(self, payload: ItemReceived, _envelope: Any) -> list[Any]:
        order = self._order_facts(payload.order_id)
        order.note_received(payload.line_no, {"traceability_code": payload.traceability_code,
                                              "platform": payload.platform, "merchant_id": payload.merchant_id,
                                              "merchant_name": payload.merchant_name,
                                              "category": payload.category,
                                              "received_at": _envelope.occurred_at.isoformat()})
        return [order]

    def on_item_inspected(self, payload: ItemInspected, _envelope: Any) -> list[Any]:
        """Zero tolerance: a counterfeit found at inspection is confirmed at once, refunded in full
        (once `orders.OrderPlaced` has brought the order's prices: claims reads the topics apart)."""
        if COUNTERFEIT not in payload.issues:
            return []
        order = self._order_facts(payload.order_id)
        evidence, found_by = list(payload.photos), f"warehouse_staff:{payload.staff_id}"
        if not order.placed:
            order.note_counterfeit_found(payload.line_no, {"traceability_code": payload.traceability_code,
                                                           "evidence": evidence, "confirmed_by": found_by})
            return [order]
        counterfeit = self.counterfeit_of(order, payload.line_no, payload.traceability_code, "inspection",
                                          evidence, found_by)
        return [counterfeit] if counterfeit else []

    def counterfeit_of(self, order: ClaimsOrder, line_no: int, code: str, source: str, evidence: list[str],
                       confirmed_by: str) -> Counterfeit | None:
        """A line's counterfeit confirmation, once; None if confirmed before, or its merchant or its order
        is not known yet."""
        received = order.received.get(line_no)
        if received is None or not order.placed \
                or self.find(counterfeit_id(order.order_id, line_no), Counterfeit) is not None:
            return None
        return confirmed_counterfeit(order, line_no, code, received, source, evidence, confirmed_by)

    def on_payment_recorded(self, payload: PaymentRecorded, envelope: Any) -> list[Any]:
        with self.loading_together(order_facts_id(payload.order_id), timers.timer_id(PURCHASE_SLA, payload.order_id)):
            order = self.find(order_facts_id(payload.order_id), ClaimsOrder)
            if order is None or not order.placed or not order.note_payment(envelope.occurred_at):
                return []
            return [order, timers.schedule(self, PURCHASE_SLA, order.order_id,
                                           order.paid_at + timedelta(hours=PURCHASE_SLA_HOURS),
                                           order_id=order.order_id)]

    def _settle_line(self, order_id: Any, line_no: int) -> list[Any]:
        with self.loading_together(order_facts_id(order_id), timers.timer_id(PURCHASE_SLA, order_id)):
            order = self._order_facts(order_id)
            order.note_line_settled(line_no)
            cancelled = [] if order.purchase_pending else timers.cancel(self, PURCHASE_SLA, order.order_id)
            return [order, *cancelled]

    def on_item_purchased(self, payload: ItemPurchased, _envelope: Any) -> list[Any]:
        return self._settle_line(payload.order_id, payload.line_no)

    def on_line_cancelled(self, payload: LineCancelled, _envelope: Any) -> list[Any]:
        return self._settle_line(payload.order_id, payload.line_no)

    def on_purchase_sla_due(self, timer: Timer, _now: datetime) -> list[Any]:
        order = self.find(order_facts_id(timer.subject), ClaimsOrder)
        if order is None or not order.purchase_pending or order.compensated:
            return []
        return self.compensate_order(order, "purchase_late",
                                     f"Not purchased within {PURCHASE_SLA_HOURS} hours of payment "
                                     f"({order.paid_at.isoformat()}).")

    def timer_handlers(self) -> dict[str, Any]:
        return {PARCEL_SILENT: self.on_parcel_silent, PARCEL_DELAYED: self.on_parcel_delayed,
                PURCHASE_SLA: self.on_purchase_sla_due, FIRST_ANSWER_DUE: self.on_first_answer_due}
