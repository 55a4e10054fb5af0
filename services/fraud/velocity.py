"""Velocity state in fraud's event store: the embedded default's windows, and every verdict per order.

On the embedded default (no Kafka, so no faust) fraud's worker keeps the same windows as the
streams role's tables, as aggregates: one per (what is counted, key, tumbling hour of event time),
holding its members once each (a payment id with its amount, a customer on a card), so a
redelivery counts nothing twice and a replay decides the same. Both paths decide with
`velocity_rules.py` and end in `OrderVelocity`, the verdicts one order has tripped, recorded once
per rule; the case (`domain.FraudCase`) turns them into its flag.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.tracing import TracedAggregate, stable_id
from services.fraud.velocity_rules import Verdict

EVER = datetime(1970, 1, 1, tzinfo=timezone.utc)  # the window of the customer's orders: all time


def verdict_id(subject: UUID | str, rule: str) -> UUID:
    """One verdict per payment (or order) and rule, whoever computes it."""
    return stable_id("velocity-verdict", subject, rule)


class VelocityWindow(TracedAggregate):
    """What one key (a customer, a card fingerprint) did in one window of event time."""

    @staticmethod
    def create_id(counted: str, key: str, start: datetime) -> UUID:
        return stable_id("velocity-window", counted, key, start.isoformat())

    @event("Opened")
    def __init__(self, counted: str, key: str, start: datetime) -> None:
        self.counted, self.key, self.start = counted, key, start
        self.members: dict[str, str] = {}  # payment id -> amount, customer -> "", order id -> event time

    def add(self, member: str, value: str) -> bool:
        """Once per member; False when it was counted already."""
        if member in self.members:
            return False
        self._add(member, value)
        return True

    @event("Counted")
    def _add(self, member: str, value: str) -> None:
        self.members[member] = value

    @property
    def total(self) -> Decimal:
        return sum((Decimal(v) for v in self.members.values()), Decimal("0.00"))

    def earliest(self) -> str:
        """The member with the earliest value (orders: by event time, then id)."""
        return min(self.members.items(), key=lambda item: (item[1], item[0]))[0]


def order_velocity_id(order_id: UUID) -> UUID:
    return stable_id("order-velocity", order_id)


class OrderVelocity(TracedAggregate):
    """The velocity verdicts one order tripped, each recorded once (by verdict id)."""

    @staticmethod
    def create_id(order_id: UUID) -> UUID:
        return order_velocity_id(order_id)

    @event("Opened")
    def __init__(self, order_id: UUID) -> None:
        self.order_id = order_id
        self.trips: dict[str, dict] = {}  # verdict id -> rule, reason, rules version, payment id

    def trip(self, verdict_id: UUID, verdict: Verdict, payment_id: UUID | None, source: str) -> bool:
        if str(verdict_id) in self.trips:
            return False
        self._trip(str(verdict_id), verdict.rule, verdict.reason, verdict.rules_version,
                   str(payment_id) if payment_id else None, source)
        return True

    @event("Tripped")
    def _trip(self, verdict_id: str, rule: str, reason: str, rules_version: str, payment_id: str | None,
              source: str) -> None:
        self.trips[verdict_id] = {"rule": rule, "reason": reason, "rules_version": rules_version,
                                  "payment_id": payment_id, "source": source}

    def reasons(self) -> list[str]:
        return [t["reason"] for t in self.trips.values()]

    def rules_version(self) -> str:
        return next((t["rules_version"] for t in self.trips.values()), "")
