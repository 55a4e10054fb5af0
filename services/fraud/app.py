"""Fraud application: open a case per order, review every payment, keep reference prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID


from contracts.fraud import VelocityRuleTripped
from contracts.orders import OrderPlaced, PaymentRecorded
from contracts.payments import PaymentSucceededV3
from service_runtime.errors import NotFound
from service_runtime.store import ServiceApplication
from services.fraud.domain import FraudCase, ReferencePrice, case_id, reference_id
from services.fraud.velocity import EVER, OrderVelocity, VelocityWindow, order_velocity_id, verdict_id
from services.fraud.velocity_rules import Thresholds, Verdict, first_order, payment_verdicts, window_of


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
        ids = {(item["platform"], item["item_id"]): reference_id(item["platform"], item["item_id"]) for item in items}
        prices = {}
        with self.loading_together(*ids.values()):
            for key, reference_key in ids.items():
                reference = self.find(reference_key, ReferencePrice)
                if reference is not None:
                    prices[key] = reference.price
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

    def on_order_placed(self, payload: OrderPlaced, envelope: Any) -> list[Any]:
        if case_id(payload.order_id) in self.repository:
            return []
        items = [{"platform": l.platform, "item_id": l.item_id, "unit_price": l.unit_price} for l in payload.lines]
        case = FraudCase(order_id=payload.order_id, customer_id=payload.customer_id, items=items)
        return [case] + self._first_order_in_process(payload, envelope)

    def on_payment_recorded(self, payload: PaymentRecorded, _envelope: Any) -> list[Any]:
        with self.loading_together(case_id(payload.order_id), order_velocity_id(payload.order_id)):
            case = self.case_for_order(payload.order_id)
            trips = self.find(order_velocity_id(payload.order_id), OrderVelocity)
        case.review_payment(payload.payment_id, self.reference_prices(case.items),
                            trips.reasons() if trips else [], trips.rules_version() if trips else "")
        return [case]

    # Velocity (services/fraud/velocity_rules.py): on the stack the streams role's faust agents
    # decide and publish fraud.VelocityRuleTripped; on the embedded default the worker decides
    # in-process over the same windows. Either way the verdict lands here, once per rule.

    velocity = Thresholds()
    velocity_in_process = True  # False where the streams role runs the rules (stack mode)

    def on_velocity_rule_tripped(self, payload: VelocityRuleTripped, _envelope: Any) -> list[Any]:
        verdict = Verdict(payload.rule, payload.reason, payload.rules_version)
        return self._record_verdicts(payload.order_id, payload.payment_id, [(payload.verdict_id, verdict)], "streams")

    def on_payment_succeeded(self, payload: PaymentSucceededV3, envelope: Any) -> list[Any]:
        if not self.velocity_in_process or payload.purpose != "order" or payload.order_id is None:
            return []
        start, _ = window_of(envelope.occurred_at)
        mine = self._window("customer-payments", payload.customer_id, start)
        if not mine.add(str(payload.payment_id), str(payload.amount)):
            return []
        changed: list[Any] = [mine]
        card_customers = 0
        if payload.card_fingerprint:
            card = self._window("card-customers", payload.card_fingerprint, start)
            card.add(payload.customer_id, "0")
            changed.append(card)
            card_customers = len(card.members)
        verdicts = payment_verdicts(len(mine.members), mine.total, card_customers, self.velocity)
        return changed + self._record_verdicts(payload.order_id, payload.payment_id,
                                               [(verdict_id(payload.payment_id, v.rule), v) for v in verdicts],
                                               "in-process")

    def _first_order_in_process(self, payload: OrderPlaced, envelope: Any) -> list[Any]:
        if not self.velocity_in_process:
            return []
        placed = self._window("customer-orders", payload.customer_id, EVER)
        placed.add(str(payload.order_id), envelope.occurred_at.isoformat())
        changed: list[Any] = [placed]
        verdict = first_order(placed.earliest() == str(payload.order_id), payload.quote.total, self.velocity)
        if verdict is not None:
            changed += self._record_verdicts(payload.order_id, None,
                                             [(verdict_id(payload.order_id, verdict.rule), verdict)], "in-process")
        return changed

    def _window(self, counted: str, key: str, start) -> VelocityWindow:
        return (self.find(VelocityWindow.create_id(counted, key, start), VelocityWindow)
                or VelocityWindow(counted=counted, key=key, start=start))

    def _record_verdicts(self, order_id: UUID, payment_id: UUID | None, verdicts: list[tuple[UUID, Verdict]],
                         source: str) -> list[Any]:
        """Keep each verdict once; flag the case now if it already reviewed a payment (otherwise
        the payment's review weighs them)."""
        if not verdicts:
            return []
        trips = self.find(order_velocity_id(order_id), OrderVelocity) or OrderVelocity(order_id=order_id)
        new = [verdict for vid, verdict in verdicts if trips.trip(vid, verdict, payment_id, source)]
        if not new:
            return []
        case = self.find(case_id(order_id), FraudCase)
        if case is None or not case.payment_ids:
            return [trips]
        case.flag_velocity(payment_id or UUID(case.payment_ids[-1]), [v.reason for v in new], new[0].rules_version)
        return [trips, case]
