"""The guarantees that compensate by themselves, and what claims knows about an order for them (pure).

- Purchase within 24 hours of payment: if any line is still unpurchased when the deadline fires,
  the order's service fee is credited (claim kind `purchase_late`).
- Delivery within 60 days of dispatch, and a carrier scan at least every 10 days: see
  `services/claims/windows.py` (`DELAYED_AFTER_DAYS`, `LOST_AFTER_SILENT_DAYS`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict, DomainError
from service_runtime.tracing import TracedAggregate, stable_id
from services.claims.windows import check_open

PURCHASE_SLA_HOURS = 24
PURCHASE_SLA = "guarantee.purchase-24h"  # timer purposes
PARCEL_SILENT = "guarantee.parcel-silent"
PARCEL_DELAYED = "guarantee.parcel-60-days"


def order_facts_id(order_id: UUID) -> UUID:
    return stable_id("claims-order", order_id)


class ClaimsOrder(TracedAggregate):
    """An order's customer, service fee, lines and which of them are purchased (or cancelled)."""

    @staticmethod
    def create_id(order_id: UUID) -> UUID:
        return order_facts_id(order_id)

    # Created by `orders.OrderPlaced` with everything, or bare (the order id only) by a purchasing
    # or warehouse fact that arrived first: claims reads the topics independently. `note_placed`
    # then fills in the customer, lines and fee.
    @event("Noted")
    def __init__(self, order_id: UUID, customer_id: str | None = None, line_nos: list[int] | None = None,
                 service_fee: Decimal | None = None, line_amounts: dict | None = None) -> None:
        self.order_id = order_id
        self._fill(customer_id, line_nos or [], service_fee, line_amounts)
        self.paid_at: datetime | None = None
        self.settled_lines: list[int] = []  # purchased or cancelled
        self.compensated = False
        self.received: dict[int, dict] = {}  # line -> traceability code, platform, merchant
        self.merchant_shipped: dict[int, datetime] = {}
        self.line_claims: dict[str, dict] = {}  # claim id -> line_no, status

    def _fill(self, customer_id: str | None, line_nos: list[int], service_fee: Decimal | None,
              line_amounts: dict | None) -> None:
        self.customer_id = customer_id
        self.line_nos = list(line_nos)
        self.service_fee = service_fee
        self.line_amounts = {int(k): Decimal(v) for k, v in (line_amounts or {}).items()}  # line -> price paid

    @property
    def placed(self) -> bool:
        return self.customer_id is not None

    def note_placed(self, customer_id: str, line_nos: list[int], service_fee: Decimal,
                    line_amounts: dict) -> bool:
        if self.placed:
            return False
        self._record_placed(customer_id, list(line_nos), service_fee, dict(line_amounts))
        return True

    @event("Placed")
    def _record_placed(self, customer_id: str, line_nos: list[int], service_fee: Decimal,
                       line_amounts: dict) -> None:
        self._fill(customer_id, line_nos, service_fee, line_amounts)

    def note_counterfeit_found(self, line_no: int, finding: dict) -> None:
        """A counterfeit found at inspection before the order's customer and prices are known here:
        kept until `note_placed` brings them, then confirmed (`watch.on_order_placed`)."""
        if line_no not in self.counterfeits_found():
            self._record_counterfeit_found(line_no, finding)

    @event("CounterfeitFound")
    def _record_counterfeit_found(self, line_no: int, finding: dict) -> None:
        self.counterfeit_found = {**self.counterfeits_found(), line_no: finding}

    def counterfeits_found(self) -> dict[int, dict]:
        """Line -> an inspection's finding (traceability code, evidence, who found it)."""
        return getattr(self, "counterfeit_found", {})

    def note_merchant_shipment(self, line_no: int, at: datetime) -> None:
        if line_no not in getattr(self, "merchant_shipped", {}):
            self._record_merchant_shipment(line_no, at)

    @event("MerchantShipmentRecorded")
    def _record_merchant_shipment(self, line_no: int, at: datetime) -> None:
        self.merchant_shipped = {**getattr(self, "merchant_shipped", {}), line_no: at}

    def register_line_claim(self, claim_id: UUID, line_no: int, kind: str, now: datetime) -> None:
        """A claim about a line before it reached the warehouse (once per line)."""
        if line_no not in self.line_nos:
            raise DomainError(f"order {self.order_id} has no line {line_no}")
        if line_no in self.received:
            raise Conflict(f"line {line_no} reached our warehouse; claim on the parcel once it is delivered")
        check_open(kind, {"merchant_shipped": getattr(self, "merchant_shipped", {}).get(line_no)}, now)
        if any(c["line_no"] == line_no and c["status"] != "rejected" for c in self.line_claims.values()):
            raise Conflict(f"line {line_no} already has a claim")
        self._register_line_claim(claim_id, line_no)

    @event("LineClaimRegistered")
    def _register_line_claim(self, claim_id: UUID, line_no: int) -> None:
        self.line_claims = {**self.line_claims, str(claim_id): {"line_no": line_no, "status": "open"}}

    @event("LineClaimSettled")
    def settle_line_claim(self, claim_id: UUID, approved: bool) -> None:
        self.line_claims[str(claim_id)]["status"] = "approved" if approved else "rejected"

    def line_facts(self, kind: str, approved: bool, line_no: int) -> dict[str, str]:
        return {"kind": kind, "approved": str(approved).lower(), "line_no": str(line_no),
                "line_amount": str(self.line_amounts.get(line_no, Decimal("0"))),
                "items_total": str(sum(self.line_amounts.values(), Decimal("0"))),
                "service_fee": str(self.service_fee)}

    def note_received(self, line_no: int, facts: dict) -> None:
        if line_no not in self.received:
            self._record_received(line_no, facts)

    @event("ItemReceived")
    def _record_received(self, line_no: int, facts: dict) -> None:
        self.received[line_no] = dict(facts)

    @property
    def purchase_pending(self) -> bool:
        return any(line not in self.settled_lines for line in self.line_nos)

    def note_payment(self, paid_at: datetime) -> bool:
        if self.paid_at is None:
            self._record_payment(paid_at)
            return True
        return False

    @event("PaymentRecorded")
    def _record_payment(self, paid_at: datetime) -> None:
        self.paid_at = paid_at

    def note_line_settled(self, line_no: int) -> None:
        if line_no not in self.settled_lines:
            self._settle_line(line_no)

    @event("LineSettled")
    def _settle_line(self, line_no: int) -> None:
        self.settled_lines.append(line_no)

    @event("Compensated")
    def mark_compensated(self, claim_id: UUID) -> None:
        self.compensated = True
