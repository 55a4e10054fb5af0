"""Claims application: learn about parcels, open a customer's claim, decide its compensation."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID


from contracts.logistics import ReceiptConfirmed, ShippingLineChosen, TrackingUpdated
from contracts.warehouse import ParcelPacked
from service_runtime.auth import AUDITOR, SUPPORT_AGENT, Caller
from service_runtime.errors import Forbidden, NotFound
from service_runtime.store import ServiceApplication
from services.claims.compensation import compensation_for
from services.claims.domain import Claim, ClaimsParcel, parcel_facts_id

STAFF_WHO_READ_CLAIMS = (SUPPORT_AGENT, AUDITOR)


class ClaimsApplication(ServiceApplication):
    name = "claims"

    def parcel(self, parcel_id: UUID) -> ClaimsParcel | None:
        return self.find(parcel_facts_id(parcel_id), ClaimsParcel)

    def own_parcel(self, caller: Caller, parcel_id: UUID) -> ClaimsParcel:
        """The packed parcel, if the caller is its customer; otherwise the same 404 as an unknown one."""
        parcel = self.parcel(parcel_id)
        if parcel is None or not parcel.is_packed or parcel.customer_id != caller.subject:
            raise NotFound(f"parcel {parcel_id} not found")
        return parcel

    def claim_for(self, caller: Caller, claim_id: UUID) -> Claim:
        """The claim, if the caller may see it; otherwise the same 404 as a missing claim."""
        claim = self.find(claim_id, Claim)
        if claim is None or not caller.can_read_customer_data(claim.customer_id,
                                                                             *STAFF_WHO_READ_CLAIMS):
            raise NotFound(f"claim {claim_id} not found")
        return claim

    def open_claim(self, caller: Caller, parcel_id: UUID, kind: str, traceability_code: str | None,
                   description: str, photos: list[str]) -> Claim:
        def open_once() -> tuple[list, Claim]:
            parcel = self.own_parcel(caller, parcel_id)
            claim_id = uuid.uuid4()
            parcel.register_claim(claim_id, kind, traceability_code)
            claim = Claim(claim_id=claim_id, parcel_id=parcel_id, customer_id=parcel.customer_id,
                          order_ids=parcel.order_ids, order_id=parcel.order_for(traceability_code), kind=kind,
                          traceability_code=traceability_code, description=description, photos=photos)
            return [parcel, claim], claim

        return self.save_with_retry(open_once)

    def decide(self, caller: Caller, claim_id: UUID, approved: bool, notes: str) -> Claim:
        def decide_once() -> tuple[list, Claim]:
            claim = self.claim_for(caller, claim_id)
            if claim.customer_id == caller.subject:
                raise Forbidden("a claim cannot be decided by the customer who opened it")
            parcel = self.repository.get(parcel_facts_id(claim.parcel_id))
            compensation = compensation_for(claim.kind, approved, claim.traceability_code, parcel.item_values,
                                            parcel.shipping_fee)
            claim.decide(approved, compensation, decided_by=caller.subject, notes=notes)
            parcel.settle_claim(claim_id=claim.id, approved=approved)
            return [claim, parcel], claim

        return self.save_with_retry(decide_once)

    # Reactions to the warehouse and logistics: facts about parcels ----------------------

    def _parcel_or_new(self, parcel_id: UUID) -> ClaimsParcel:
        # Topics interleave: a logistics fact may arrive before the warehouse's packing.
        return self.parcel(parcel_id) or ClaimsParcel(parcel_id=parcel_id)

    def on_parcel_packed(self, payload: ParcelPacked, _envelope: Any) -> list[ClaimsParcel]:
        parcel = self._parcel_or_new(payload.parcel_id)
        parcel.note_packing(payload.customer_id, list(payload.order_ids), [
            {"traceability_code": i.traceability_code, "order_id": i.order_id, "line_no": i.line_no,
             "sku": i.sku, "quantity": i.quantity, "value": i.value} for i in payload.items])
        return [parcel]

    def on_shipping_line_chosen(self, payload: ShippingLineChosen, _envelope: Any) -> list[ClaimsParcel]:
        parcel = self._parcel_or_new(payload.parcel_id)
        parcel.note_shipping_fee(payload.amount, payload.payment_id)
        return [parcel]

    def on_tracking_updated(self, payload: TrackingUpdated, _envelope: Any) -> list[ClaimsParcel]:
        if payload.status != "delivered":
            return []
        parcel = self._parcel_or_new(payload.parcel_id)
        parcel.note_delivery(payload.carrier_time, payload.carrier_event_id)
        return [parcel]

    def on_receipt_confirmed(self, payload: ReceiptConfirmed, _envelope: Any) -> list[ClaimsParcel]:
        parcel = self._parcel_or_new(payload.parcel_id)
        parcel.note_receipt()
        return [parcel]
