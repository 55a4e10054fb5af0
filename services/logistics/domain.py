"""Logistics aggregates: the shipment of one packed parcel, and the index from a carrier's
tracking number back to it (carriers only know their own tracking numbers).

A parcel may hold items of several orders, so a Shipment has no single order id; its events
carry `order_ids` instead.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict, DomainError
from service_runtime.idempotency import earlier_answer
from service_runtime.tracing import TracedAggregate, stable_id
from services.logistics import billing, customs, lines

PACKED = "packed"
AWAITING_SHIPPING_PAYMENT = "awaiting_shipping_payment"
SHIPPING_PAID = "shipping_paid"
SHIPPED = "shipped"
DELIVERED = "delivered"
RECEIPT_CONFIRMED = "receipt_confirmed"


def tracking_index_id(carrier: str, tracking_number: str) -> UUID:
    return stable_id("carrier-tracking", carrier, tracking_number)


class Shipment(TracedAggregate):
    @staticmethod
    def create_id(parcel_id: UUID) -> UUID:
        return parcel_id

    @event("Packed")
    def __init__(self, parcel_id: UUID, customer_id: str, order_ids: list, destination_country: str,
                 items: list, weight_kg: Decimal, length_cm: Decimal, width_cm: Decimal, height_cm: Decimal,
                 storage_fees: list | None = None) -> None:
        self.storage_fees = [dict(fee) for fee in storage_fees or []]  # as the warehouse froze them at packing
        self.bill: dict | None = None
        self.customer_id = customer_id
        self.order_ids = list(order_ids)
        self.destination_country = destination_country
        self.items = [dict(item) for item in items]
        self.weight_kg, self.length_cm, self.width_cm, self.height_cm = weight_kg, length_cm, width_cm, height_cm
        self.shipping: dict | None = None
        self.customs_items: list[dict] | None = None
        self.handover: dict | None = None
        self.tracking: list[dict] = []
        self.receipt_confirmed = False

    @property
    def traceability_codes(self) -> list[str]:
        return [item["traceability_code"] for item in self.items]

    @property
    def delivered(self) -> bool:
        return any(update["status"] == DELIVERED for update in self.tracking)

    @property
    def status(self) -> str:
        if self.receipt_confirmed:
            return RECEIPT_CONFIRMED
        if self.delivered:
            return DELIVERED
        if self.tracking:  # carriers may report out of order: the latest scan wins
            return max(self.tracking, key=lambda update: update["carrier_time"])["status"]
        if self.handover:
            return SHIPPED
        if self.shipping:
            return SHIPPING_PAID
        return AWAITING_SHIPPING_PAYMENT if getattr(self, "bill", None) else PACKED

    def quote(self) -> list[lines.LineQuote]:
        return lines.quote(self)

    # Choosing a shipping line (the bill) and paying it at payments --------------------------

    def bill_shipping(self, line_code: str, amount: Decimal | None, premium: Decimal | None,
                      idempotency_key: str, fingerprint: str) -> dict:
        """Choose a line: the bill (line price, premium, storage fees) is issued and frozen; the
        customer pays it at payments. The same key with the same request returns the first bill."""
        bill = getattr(self, "bill", None)
        if bill is not None:
            if bill["idempotency_key"] == idempotency_key:
                return earlier_answer(bill, fingerprint)
            raise Conflict(f"shipping for parcel {self.id} is already billed ({bill['line_code']}, "
                           f"{bill['total']} CNY): pay it at POST /payments/shipping/{self.id}")
        offer = next((q for q in self.quote() if q.line.code == line_code), None)
        if offer is None:
            known = ", ".join(line.code for line in lines.LINES)
            raise DomainError(f"there is no shipping line '{line_code}'; lines: {known}")
        if offer.refused:
            raise DomainError(offer.reason)
        if amount is not None and amount != offer.price:
            raise DomainError(f"the amount {amount} CNY does not match the price of {offer.line.name} "
                              f"for this parcel, {offer.price} CNY")
        bill_lines, total = billing.compose_bill(offer.line.name, offer.price, premium,
                                                 getattr(self, "storage_fees", []))
        self._bill(parcel_id=self.id, customer_id=self.customer_id, order_ids=self.order_ids, line_code=line_code,
                   chargeable_weight_kg=offer.chargeable_weight_kg, lines=bill_lines, total=total, currency="CNY",
                   lines_version=lines.LINES_VERSION, idempotency_key=idempotency_key, fingerprint=fingerprint)
        return self.bill

    @event("ShippingBilled")
    def _bill(self, parcel_id: UUID, customer_id: str, order_ids: list, line_code: str,
              chargeable_weight_kg: Decimal, lines: list, total: Decimal, currency: str, lines_version: str,
              idempotency_key: str, fingerprint: str) -> None:
        self.bill = {"parcel_id": parcel_id, "line_code": line_code, "chargeable_weight_kg": chargeable_weight_kg,
                     "lines": [dict(line) for line in lines], "total": total, "currency": currency,
                     "lines_version": lines_version, "idempotency_key": idempotency_key, "fingerprint": fingerprint}

    def record_payment(self, payment_id: UUID, method: str, amount: Decimal) -> bool:
        """Payments confirmed the bill: the parcel may be handed over. False for a redelivery."""
        if self.shipping is not None:
            return False
        bill = getattr(self, "bill", None)
        if bill is None or amount != bill["total"]:
            raise Conflict(f"payment {payment_id} of {amount} CNY does not settle parcel {self.id}'s bill")
        self._choose_line(parcel_id=self.id, customer_id=self.customer_id, order_ids=self.order_ids,
                          line_code=bill["line_code"], chargeable_weight_kg=bill["chargeable_weight_kg"],
                          amount=bill["total"], currency="CNY", payment_id=payment_id, method=method,
                          lines_version=bill["lines_version"])
        return True

    @event("ShippingLineChosen")
    def _choose_line(self, parcel_id: UUID, customer_id: str, order_ids: list, line_code: str,
                     chargeable_weight_kg: Decimal, amount: Decimal, currency: str, payment_id: UUID, method: str,
                     lines_version: str, provider_reference: str | None = None, idempotency_key: str | None = None,
                     fingerprint: str | None = None) -> None:
        """Paid (the reference, key and fingerprint are on parcels paid before payments took shipping)."""
        self.shipping = {
            "line_code": line_code, "chargeable_weight_kg": chargeable_weight_kg, "amount": amount,
            "currency": currency, "payment_id": payment_id, "method": method, "lines_version": lines_version,
        }

    # Customs --------------------------------------------------------------------------------

    def declare_customs(self, items: list[dict], staff_id: str) -> None:
        """Declare every item of the parcel exactly once; may be corrected until handover."""
        if self.handover:
            raise Conflict(f"parcel {self.id} was already handed to {self.handover['carrier']}")
        declared = [item["traceability_code"] for item in items]
        problems = []
        repeated = sorted({code for code in declared if declared.count(code) > 1})
        if repeated:
            problems.append(f"declared more than once: {', '.join(repeated)}")
        unknown = sorted(set(declared) - set(self.traceability_codes))
        if unknown:
            problems.append(f"not in this parcel: {', '.join(unknown)}")
        missing = [code for code in self.traceability_codes if code not in declared]
        if missing:
            problems.append(f"not declared: {', '.join(missing)}")
        if problems:
            raise DomainError(f"the declaration must list every item of parcel {self.id} once; "
                              + "; ".join(problems))
        implausible = [problem for item in items if (problem := self._implausible(item))]
        if implausible:
            raise DomainError("; ".join(implausible))
        if self.customs_items == items:
            return
        self._declare(parcel_id=self.id, order_ids=self.order_ids, destination_country=self.destination_country,
                      items=items, staff_id=staff_id)

    def _implausible(self, declared: dict) -> str | None:
        code = declared["traceability_code"]
        value, currency = Decimal(declared["declared_value"]), declared["currency"]
        paid = next(Decimal(item["value"]) for item in self.items if item["traceability_code"] == code)
        if getattr(self, "personal_declarations", {}).get(code) == {"declared_value": value, "currency": currency}:
            return None  # the customer's own declaration, warning accepted
        try:
            return customs.under_declaration(code, paid, value, currency)
        except ValueError as exc:
            return f"item {code}: {exc}"

    def personalise_declaration(self, items: list[dict], warning_accepted: bool) -> None:
        """The customer declares their own values (below the purchase price) and accepts the warning."""
        if not warning_accepted:
            raise DomainError(f"a personalised declaration needs the warning accepted: {customs.PERSONALISED_WARNING}")
        if self.handover:
            raise Conflict(f"parcel {self.id} was already handed to {self.handover['carrier']}")
        unknown = sorted({item["traceability_code"] for item in items} - set(self.traceability_codes))
        if unknown:
            raise DomainError(f"not in this parcel: {', '.join(unknown)}")
        unknown_currencies = sorted({item["currency"] for item in items} - set(customs.CNY_PER_UNIT))
        if unknown_currencies:
            raise DomainError(f"no published rate for {', '.join(unknown_currencies)}; "
                              f"currencies: {', '.join(customs.CNY_PER_UNIT)}")
        self._personalise(declarations={item["traceability_code"]: {
            "declared_value": Decimal(item["declared_value"]), "currency": item["currency"]} for item in items},
            warning=customs.PERSONALISED_WARNING)

    @event("PersonalisedDeclarationMade")
    def _personalise(self, declarations: dict, warning: str) -> None:
        self.personal_declarations = {**getattr(self, "personal_declarations", {}), **declarations}

    @event("CustomsDeclared")
    def _declare(self, parcel_id: UUID, order_ids: list, destination_country: str, items: list,
                 staff_id: str) -> None:
        self.customs_items = [dict(item) for item in items]

    # Handover and the carrier's tracking ----------------------------------------------------

    def hand_over(self, carrier: str, tracking_number: str, staff_id: str) -> None:
        if self.handover:
            if (self.handover["carrier"], self.handover["tracking_number"]) == (carrier, tracking_number):
                return
            raise Conflict(f"parcel {self.id} was already handed to {self.handover['carrier']} "
                           f"as {self.handover['tracking_number']}")
        if self.shipping is None:
            raise Conflict(f"shipping for parcel {self.id} has not been paid yet")
        if self.customs_items is None:
            raise Conflict(f"parcel {self.id} has no customs declaration yet")
        self._ship(parcel_id=self.id, order_ids=self.order_ids, traceability_codes=self.traceability_codes,
                   line_code=self.shipping["line_code"], carrier=carrier, tracking_number=tracking_number,
                   staff_id=staff_id)

    @event("Shipped")
    def _ship(self, parcel_id: UUID, order_ids: list, traceability_codes: list, line_code: str, carrier: str,
              tracking_number: str, staff_id: str) -> None:
        self.handover = {"carrier": carrier, "tracking_number": tracking_number, "staff_id": staff_id}

    def record_tracking(self, carrier: str, carrier_event_id: str, status: str, location: str,
                        carrier_time: datetime) -> bool:
        """Record a carrier's update; False (and nothing recorded) for one already seen."""
        if not self.handover:
            raise Conflict(f"parcel {self.id} has not been handed to a carrier yet")
        if any(update["carrier_event_id"] == carrier_event_id for update in self.tracking):
            return False
        record = self._customs_status if status in customs.CARRIER_STATUSES else self._track
        record(parcel_id=self.id, order_ids=self.order_ids, traceability_codes=self.traceability_codes,
               status=status, carrier=carrier, carrier_event_id=carrier_event_id, location=location,
               carrier_time=carrier_time)
        return True

    @event("CustomsStatusReported")
    def _customs_status(self, parcel_id: UUID, order_ids: list, traceability_codes: list, status: str, carrier: str,
                        carrier_event_id: str, location: str, carrier_time: datetime) -> None:
        """Customs holds or seizes the parcel (or releases a hold): told apart from ordinary scans."""
        self.tracking.append({"carrier_event_id": carrier_event_id, "status": status, "location": location,
                              "carrier_time": carrier_time})

    @event("TrackingUpdated")
    def _track(self, parcel_id: UUID, order_ids: list, traceability_codes: list, status: str, carrier: str,
               carrier_event_id: str, location: str, carrier_time: datetime) -> None:
        self.tracking.append({"carrier_event_id": carrier_event_id, "status": status, "location": location,
                              "carrier_time": carrier_time})

    def confirm_receipt(self) -> None:
        if self.receipt_confirmed:
            return
        if not self.delivered:
            raise Conflict(f"parcel {self.id} has not been delivered yet; confirm receipt once it arrives")
        self._confirm_receipt(parcel_id=self.id, customer_id=self.customer_id, order_ids=self.order_ids,
                              traceability_codes=self.traceability_codes)

    @event("ReceiptConfirmed")
    def _confirm_receipt(self, parcel_id: UUID, customer_id: str, order_ids: list,
                         traceability_codes: list) -> None:
        self.receipt_confirmed = True


class TrackingIndex(TracedAggregate):
    """Which parcel a carrier's tracking number belongs to."""

    @staticmethod
    def create_id(carrier: str, tracking_number: str) -> UUID:
        return tracking_index_id(carrier, tracking_number)

    @event("Registered")
    def __init__(self, carrier: str, tracking_number: str, parcel_id: UUID) -> None:
        self.carrier = carrier
        self.tracking_number = tracking_number
        self.parcel_id = parcel_id
