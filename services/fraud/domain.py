"""Fraud aggregates: a review case per order, and the platform's reference price per item."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict
from service_runtime.tracing import TracedAggregate, stable_id
from services.fraud import rules


def case_id(order_id: UUID) -> UUID:
    return stable_id("fraud-case", order_id)


def reference_id(platform: str, item_id: str) -> UUID:
    return stable_id("reference-price", platform, item_id)


class FraudCase(TracedAggregate):
    @staticmethod
    def create_id(order_id: UUID) -> UUID:
        return case_id(order_id)

    @event("Opened")
    def __init__(self, order_id: UUID, customer_id: str, items: list) -> None:
        self.order_id = order_id
        self.customer_id = customer_id
        self.items = items
        self.payment_ids: list[str] = []
        self.decisions: list[dict] = []
        self.review: dict | None = None  # a risk analyst's resolution of a hold

    def review_payment(self, payment_id: UUID, references: dict[tuple[str, str], Decimal],
                       velocity_reasons: list[str] = (), velocity_version: str = "") -> None:
        """Decide once per payment: clear it, or flag the order with the reasons (the velocity
        rules' too, recorded with their own version)."""
        if str(payment_id) in self.payment_ids:
            return
        priced = [rules.PricedItem(i["platform"], i["item_id"], i["unit_price"]) for i in self.items]
        reasons = rules.assess(self.payment_ids + [str(payment_id)], priced, references) + list(velocity_reasons)
        if reasons:
            version = f"{rules.RULES_VERSION}+{velocity_version}" if velocity_reasons else rules.RULES_VERSION
            self._flag(payment_id, reasons, version)
        else:
            self._clear(payment_id, rules.RULES_VERSION)

    def flag_velocity(self, payment_id: UUID, reasons: list[str], velocity_version: str) -> None:
        """A velocity verdict that came after this case reviewed the payment (the streams role
        decides beside the worker, not before it): flag the order now, once per reason. Before the
        review, nothing here: reviewing the payment then would be skipped, and its own rules
        (a duplicate payment) never run."""
        if str(payment_id) not in self.payment_ids:
            return  # that payment is not reviewed yet: its review weighs the verdict with its own rules
        decided = {reason for d in self.decisions for reason in d["reasons"]}
        new = [reason for reason in reasons if reason not in decided]
        if new:
            self._flag(payment_id, new, f"{rules.RULES_VERSION}+{velocity_version}")

    @event("Cleared")
    def _clear(self, payment_id: UUID, rules_version: str) -> None:
        self.payment_ids.append(str(payment_id))
        self.decisions.append({"payment_id": payment_id, "outcome": "cleared", "reasons": [],
                               "rules_version": rules_version})

    @event("Flagged")
    def _flag(self, payment_id: UUID, reasons: list, rules_version: str) -> None:
        self.payment_ids.append(str(payment_id))
        self.decisions.append({"payment_id": payment_id, "outcome": "flagged", "reasons": list(reasons),
                               "rules_version": rules_version})


    @property
    def held(self) -> bool:
        """Flagged by a rule and not yet resolved by an analyst."""
        return self.review is None and any(d["outcome"] == "flagged" for d in self.decisions)

    def resolve(self, decision: str, analyst: str, reason: str) -> None:
        if not self.held:
            raise Conflict(f"order {self.order_id} is not waiting for a review")
        if decision == "release":
            self._release(self.order_id, analyst, reason, rules.RULES_VERSION)
        else:
            self._cancel(self.order_id, analyst, reason, rules.RULES_VERSION)

    @event("Released")
    def _release(self, order_id: UUID, analyst: str, reason: str, rules_version: str) -> None:
        self.review = {"decision": "release", "analyst": analyst, "reason": reason, "rules_version": rules_version}

    @event("CancelledAfterReview")
    def _cancel(self, order_id: UUID, analyst: str, reason: str, rules_version: str) -> None:
        self.review = {"decision": "cancel_and_refund", "analyst": analyst, "reason": reason,
                       "rules_version": rules_version}


class ReferencePrice(TracedAggregate):
    @staticmethod
    def create_id(platform: str, item_id: str) -> UUID:
        return reference_id(platform, item_id)

    @event("Set")
    def __init__(self, platform: str, item_id: str, price: Decimal, set_by: str) -> None:
        self.platform, self.item_id = platform, item_id
        self.price, self.set_by = price, set_by

    @event("Changed")
    def change(self, platform: str, item_id: str, price: Decimal, set_by: str) -> None:
        self.price, self.set_by = price, set_by
