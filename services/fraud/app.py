"""Fraud application: open a case per order, review every payment, keep reference prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID


from contracts.orders import OrderPlaced, PaymentRecorded
from service_runtime.errors import NotFound
from service_runtime.store import ServiceApplication
from services.fraud.domain import FraudCase, ReferencePrice, case_id, reference_id
from services.fraud.velocity import Thresholds, VelocityWindow, window_id


class FraudApplication(ServiceApplication):
    name = "fraud"

    def set_reference_price(self, platform: str, item_id: str, price: Decimal, set_by: str) -> ReferencePrice:
        reference = self.find(reference_id(platform, item_id), ReferencePrice)
        if reference is None:
            reference = ReferencePrice(platform=platform, item_id=item_id, price=price, set_by=set_by)
        else:
            reference.change(platform, item_id, price, set_by)
        self.save(reference)
        return reference

    def reference_prices(self, items: list[dict]) -> dict[tuple[str, str], Decimal]:
        prices = {}
        for item in items:
            reference = self.find(reference_id(item["platform"], item["item_id"]), ReferencePrice)
            if reference is not None:
                prices[(item["platform"], item["item_id"])] = reference.price
        return prices

    def case_for_order(self, order_id: UUID) -> FraudCase:
        case = self.find(case_id(order_id), FraudCase)
        if case is None:
            raise NotFound(f"no fraud case for order {order_id}")
        return case

    def review_queue(self) -> list[FraudCase]:
        """Held orders waiting for a risk analyst, oldest flag first."""
        cases = [self.repository.get(case_id) for case_id in self.originators_of(FraudCase.Flagged)]
        return [case for case in cases if case.held]

    def resolve(self, order_id: UUID, decision: str, analyst: str, reason: str) -> FraudCase:
        def attempt():
            case = self.case_for_order(order_id)
            case.resolve(decision, analyst, reason)
            return [case], case

        return self.save_with_retry(attempt)

    # Reactions to orders ---------------------------------------------------------------

    def on_order_placed(self, payload: OrderPlaced, _envelope: Any) -> list[FraudCase]:
        if case_id(payload.order_id) in self.repository:
            return []
        items = [{"platform": l.platform, "item_id": l.item_id, "unit_price": l.unit_price} for l in payload.lines]
        return [FraudCase(order_id=payload.order_id, customer_id=payload.customer_id, items=items)]

    def on_payment_recorded(self, payload: PaymentRecorded, envelope: Any) -> list[Any]:
        case = self.case_for_order(payload.order_id)
        window = self.velocity_window(case.customer_id)
        window.record(payload.payment_id, envelope.occurred_at, payload.amount)
        case.review_payment(payload.payment_id, self.reference_prices(case.items),
                            window.reasons(envelope.occurred_at, self.velocity), self.velocity.version)
        return [case, window]

    # Velocity: windows per customer over event times (services/fraud/velocity.py) -------------

    velocity = Thresholds()

    def velocity_window(self, customer_id: str) -> VelocityWindow:
        return self.find(window_id(customer_id), VelocityWindow) or VelocityWindow(customer_id=customer_id)
