"""Returns from abroad, the application side: the customer asks and ships, the warehouse
receives and inspects, and the inspection decides the refund under the compensation policy."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from service_runtime.auth import AUDITOR, SUPPORT_AGENT, WAREHOUSE_STAFF, Caller
from service_runtime.errors import Conflict, DomainError, NotFound
from services.claims.compensation import RULES_VERSION, evaluate
from services.claims.returns_abroad import ABROAD_VERSION, AbroadReturn, abroad_return_id, judge_abroad, refund_facts

STAFF_WHO_HANDLE_RETURNS = (WAREHOUSE_STAFF, SUPPORT_AGENT, AUDITOR)


class AbroadReturnsDesk:
    """Mixed into `ClaimsApplication` (which provides own_parcel(), find(), save_with_retry() and clock)."""

    def request_abroad_return(self, caller: Caller, parcel_id: UUID, traceability_code: str, reason: str,
                              product_type: str) -> AbroadReturn:
        parcel = self.own_parcel(caller, parcel_id)
        if traceability_code not in parcel.items:
            raise DomainError(f"item {traceability_code} is not in parcel {parcel_id}")
        if parcel.delivered_or_received_at is None:
            raise Conflict(f"parcel {parcel_id} has not been delivered yet: returns from abroad start at delivery")
        compensated = [claim_id for claim_id, claim in parcel.claims.items()
                       if claim["traceability_code"] == traceability_code and claim["status"] == "approved"]
        if compensated:  # paid once: an item a claim compensated is not refunded again
            raise Conflict(f"item {traceability_code} was already compensated by claim {compensated[0]}")
        return_id = abroad_return_id(parcel_id, traceability_code)
        if self.find(return_id, AbroadReturn) is not None:
            raise Conflict(f"item {traceability_code} already has a return from abroad ({return_id})")
        item = parcel.items[traceability_code]
        decision = judge_abroad(reason, product_type, item.get("category", "general"),
                                parcel.delivered_or_received_at, self.clock.now())
        item_return = AbroadReturn(return_id=return_id, parcel_id=parcel_id, order_id=item["order_id"],
                                   customer_id=caller.subject, line_no=item["line_no"],
                                   traceability_code=traceability_code, reason=reason, product_type=product_type,
                                   item_value=Decimal(item["value"]), rules_version=ABROAD_VERSION, **decision)
        self.save(item_return)
        return item_return

    def abroad_return_for(self, caller: Caller, return_id: UUID) -> AbroadReturn:
        item_return = self.find(return_id, AbroadReturn)
        if item_return is None or not caller.can_read_customer_data(item_return.customer_id,
                                                                      *STAFF_WHO_HANDLE_RETURNS):
            raise NotFound(f"return {return_id} not found")
        return item_return

    def _abroad_return_step(self, caller: Caller, return_id: UUID, step) -> AbroadReturn:
        def attempt() -> tuple[list, AbroadReturn]:
            item_return = self.abroad_return_for(caller, return_id)
            step(item_return)
            return [item_return], item_return

        return self.save_with_retry(attempt)

    def ship_abroad_return(self, caller: Caller, return_id: UUID, carrier: str, tracking_number: str,
                           postage: Decimal) -> AbroadReturn:
        def ship(item_return: AbroadReturn) -> None:
            if item_return.customer_id != caller.subject:
                raise NotFound(f"return {return_id} not found")
            item_return.register_shipment(carrier, tracking_number, postage)

        return self._abroad_return_step(caller, return_id, ship)

    def receive_abroad_return(self, caller: Caller, return_id: UUID) -> AbroadReturn:
        return self._abroad_return_step(caller, return_id, lambda r: r.receive(caller.subject))

    def inspect_abroad_return(self, caller: Caller, return_id: UUID, condition: str, notes: str,
                              photos: list[str]) -> AbroadReturn:
        def inspect(item_return: AbroadReturn) -> None:
            facts = refund_facts(item_return.item_value, condition, item_return.return_shipping_paid_by,
                                 item_return.shipment["postage"] if item_return.shipment else Decimal("0.00"))
            item_return.inspect(condition, notes, photos, caller.subject, evaluate(RULES_VERSION, facts))

        return self._abroad_return_step(caller, return_id, inspect)
