"""Logistics application: a shipment per packed parcel, its paid line, customs, handover to a
carrier, the carrier's tracking updates and the customer's receipt confirmation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, TypeVar
from uuid import UUID


from contracts.payments import PaymentSucceededV2
from contracts.warehouse import ParcelPackedV2 as ParcelPacked
from service_runtime.auth import AUDITOR, CUSTOMER, LOGISTICS_STAFF, SUPPORT_AGENT, Caller
from service_runtime.errors import Conflict, NotFound
from service_runtime.requests import fingerprint
from service_runtime.store import ServiceApplication
from service_runtime.tracing import trace
from services.logistics.billing import compose_bill
from services.logistics.domain import Shipment, TrackingIndex, tracking_index_id
from services.logistics.insurance import CarrierIncident, InsuranceCover, cover_id
from services.logistics.lines import LineQuote
from services.logistics.reliability import reliability_by_line

STAFF_WHO_READ_PARCELS = (LOGISTICS_STAFF, SUPPORT_AGENT, AUDITOR)
STAFF_WHO_QUOTE = (LOGISTICS_STAFF,)
T = TypeVar("T")


class LogisticsApplication(ServiceApplication):
    name = "logistics"

    def shipment(self, parcel_id: UUID) -> Shipment:
        shipment = self.find(parcel_id, Shipment)
        if shipment is None:
            raise NotFound(f"parcel {parcel_id} not found")
        return shipment

    def shipment_for(self, caller: Caller, parcel_id: UUID,
                     staff_roles: tuple[str, ...] = STAFF_WHO_READ_PARCELS) -> Shipment:
        """The shipment, if the caller may see it; otherwise the same 404 as a missing parcel."""
        shipment = self.find(parcel_id, Shipment)
        if shipment is None or not caller.can_read_customer_data(shipment.customer_id,
                                                                                   *staff_roles):
            raise NotFound(f"parcel {parcel_id} not found")
        return shipment

    def own_shipment(self, caller: Caller, parcel_id: UUID) -> Shipment:
        """The shipment, if the caller is the customer it belongs to (staff cannot act for them)."""
        shipment = self.shipment_for(caller, parcel_id)
        if caller.subject != shipment.customer_id or CUSTOMER not in caller.roles:
            raise NotFound(f"parcel {parcel_id} not found")
        return shipment

    # Every parcel's reliability facts by parcel id (the carrier_reliability projection); set by the bootstrap.
    reliability_source: Callable[[], dict[str, list[dict]]] = staticmethod(lambda: {})

    def line_reliability(self) -> dict[str, dict[str, Any]]:
        return reliability_by_line(self.reliability_source())

    def quote(self, caller: Caller, parcel_id: UUID) -> tuple[Shipment, list[LineQuote]]:
        shipment = self.shipment_for(caller, parcel_id, STAFF_WHO_QUOTE)
        return shipment, shipment.quote()

    def change_own(self, caller: Caller, parcel_id: UUID, change: Callable[[Shipment], T]) -> T:
        def attempt() -> tuple[list[Any], T]:
            shipment = self.own_shipment(caller, parcel_id)
            return [shipment], change(shipment)

        return self.save_with_retry(attempt)

    def change_as_staff(self, parcel_id: UUID, change: Callable[[Shipment], T]) -> T:
        def attempt() -> tuple[list[Any], T]:
            shipment = self.shipment(parcel_id)
            return [shipment], change(shipment)

        return self.save_with_retry(attempt)

    # Commands -------------------------------------------------------------------------------

    def choose_shipping(self, caller: Caller, parcel_id: UUID, idempotency_key: str,
                        request: dict[str, Any]) -> dict:
        """Choose a line: the parcel's bill is issued (paid at payments, `POST /payments/shipping/{id}`)."""
        def attempt() -> tuple[list[Any], dict]:
            shipment = self.own_shipment(caller, parcel_id)
            cover = self.find(cover_id(parcel_id), InsuranceCover)
            amount = request.get("amount")
            bill = shipment.bill_shipping(
                line_code=request["line_code"], amount=Decimal(amount) if amount is not None else None,
                premium=cover.premium if cover is not None and cover.insured else None,
                idempotency_key=idempotency_key, fingerprint=fingerprint(request))
            return [shipment], bill

        return self.save_with_retry(attempt)

    def additional_charges(self, shipment: Shipment) -> list[dict]:
        """What is billed besides the line's price: the premium if insured, the storage fees due."""
        cover = self.find(cover_id(shipment.id), InsuranceCover)
        lines, _ = compose_bill("", Decimal("0"), cover.premium if cover is not None and cover.insured else None,
                                shipment.storage_fees if hasattr(shipment, "storage_fees") else [])
        return lines[1:]

    def declare_customs(self, caller: Caller, parcel_id: UUID, items: list[dict]) -> Shipment:
        def declare(shipment: Shipment) -> Shipment:
            shipment.declare_customs(items, staff_id=caller.subject)
            return shipment

        return self.change_as_staff(parcel_id, declare)

    def personalise_declaration(self, caller: Caller, parcel_id: UUID, items: list[dict],
                                warning_accepted: bool) -> Shipment:
        def personalise(shipment: Shipment) -> Shipment:
            shipment.personalise_declaration(items, warning_accepted)
            return shipment

        return self.change_own(caller, parcel_id, personalise)

    def hand_over(self, caller: Caller, parcel_id: UUID, carrier: str, tracking_number: str) -> Shipment:
        def attempt() -> tuple[list[Any], Shipment]:
            shipment = self.shipment(parcel_id)
            index = self.find(tracking_index_id(carrier, tracking_number), TrackingIndex)
            if index is not None and index.parcel_id != parcel_id:
                raise Conflict(f"{carrier} tracking number {tracking_number} belongs to another parcel")
            shipment.hand_over(carrier=carrier, tracking_number=tracking_number, staff_id=caller.subject)
            if index is None:
                index = TrackingIndex(carrier=carrier, tracking_number=tracking_number, parcel_id=parcel_id)
            return [shipment, index], shipment  # saved together: a shipped parcel is always findable

        return self.save_with_retry(attempt)

    def record_tracking(self, carrier: str, update: dict[str, Any]) -> tuple[Shipment, bool]:
        """A carrier's (already authenticated) update; the bool says whether it was new."""
        index = self.find(tracking_index_id(carrier, update["tracking_number"]), TrackingIndex)
        if index is None:
            raise NotFound(f"no parcel was handed to {carrier} as {update['tracking_number']}")

        def attempt() -> tuple[list[Any], tuple[Shipment, bool]]:
            shipment = self.shipment(index.parcel_id)
            recorded = shipment.record_tracking(
                carrier=carrier, carrier_event_id=update["carrier_event_id"], status=update["status"],
                location=update["location"], carrier_time=update["occurred_at"])
            return [shipment, *self._incident(shipment, carrier, update)], (shipment, recorded)

        with trace(actor=f"carrier:{carrier}"):
            return self.save_with_retry(attempt)

    def choose_insurance(self, caller: Caller, parcel_id: UUID, insured: bool) -> InsuranceCover:
        """Buy or decline shipping insurance, once, before the carrier has the parcel."""
        def attempt() -> tuple[list[Any], InsuranceCover]:
            shipment = self.own_shipment(caller, parcel_id)
            chosen = self.find(cover_id(parcel_id), InsuranceCover)
            if chosen is not None:
                if chosen.insured == insured:
                    return [], chosen
                raise Conflict(f"insurance for parcel {parcel_id} was already "
                               f"{'bought' if chosen.insured else 'declined'}")
            declared = sum((Decimal(str(item["value"])) for item in shipment.items), Decimal("0"))
            cover = InsuranceCover.choose(shipment.id, shipment.customer_id, shipment.order_ids, insured,
                                          declared, handed_over=bool(shipment.handover))
            if getattr(shipment, "bill", None) is not None:  # the premium goes on the shipping bill
                raise Conflict(f"shipping for parcel {parcel_id} is already billed; insurance is chosen "
                               f"before the shipping line, so its premium is on the same bill")
            return [cover], cover

        return self.save_with_retry(attempt)

    def confirm_receipt(self, caller: Caller, parcel_id: UUID) -> Shipment:
        def confirm(shipment: Shipment) -> Shipment:
            shipment.confirm_receipt()
            return shipment

        return self.change_own(caller, parcel_id, confirm)

    def _incident(self, shipment: Shipment, carrier: str, update: dict[str, Any]) -> list[CarrierIncident]:
        """A carrier's lost / seized / returned report, recorded once beside its tracking update."""
        if not update.get("incident") or self.find(CarrierIncident.create_id(shipment.id), CarrierIncident):
            return []
        return [CarrierIncident(parcel_id=shipment.id, order_ids=shipment.order_ids, incident=update["incident"],
                                carrier=carrier, carrier_event_id=update["carrier_event_id"],
                                location=update["location"], carrier_time=update["occurred_at"],
                                order_id=shipment.order_ids[0] if shipment.order_ids else None)]

    # Reactions to the warehouse ---------------------------------------------------------------

    def on_parcel_packed(self, payload: ParcelPacked, _envelope: Any) -> list[Shipment]:
        if payload.parcel_id in self.repository:
            return []  # the first packing stands; a redelivery changes nothing
        return [Shipment(
            parcel_id=payload.parcel_id, customer_id=payload.customer_id, order_ids=list(payload.order_ids),
            destination_country=payload.destination_country, items=[i.model_dump() for i in payload.items],
            weight_kg=payload.weight_kg, length_cm=payload.length_cm, width_cm=payload.width_cm,
            height_cm=payload.height_cm, storage_fees=[fee.model_dump() for fee in getattr(payload, "storage_fees", [])],
        )]

    # Reactions to payments: the parcel's bill is paid ----------------------------------------

    def on_payment_succeeded(self, payload: PaymentSucceededV2, _envelope: Any) -> list[Shipment]:
        if payload.purpose != "shipping" or payload.reference is None:
            return []
        shipment = self.shipment(UUID(payload.reference))
        return [shipment] if shipment.record_payment(payload.payment_id, payload.method, payload.amount) else []
