"""Velocity rules (pure rules and the per-customer window they read): too many payments by one
customer in 10 minutes, or too much money in 24 hours, holds the order for a risk analyst.

Windows slide over event times (when orders recorded each payment), never the wall clock, so a
replay or a late redelivery decides exactly as the live run did. The thresholds are settings
(`KONGFU_FRAUD_VELOCITY_MAX_PAYMENTS`, `KONGFU_FRAUD_VELOCITY_MAX_AMOUNT`); the version recorded on
every verdict names the rule set and the thresholds in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.tracing import TracedAggregate, stable_id

VELOCITY_VERSION = "velocity-2026.12"
PAYMENTS_WINDOW = timedelta(minutes=10)
AMOUNT_WINDOW = timedelta(hours=24)
KEPT = max(PAYMENTS_WINDOW, AMOUNT_WINDOW)


@dataclass(frozen=True)
class Thresholds:
    max_payments: int = 20  # more than this many payments by one customer within PAYMENTS_WINDOW
    max_amount: Decimal = Decimal("200000.00")  # more than this (CNY) within AMOUNT_WINDOW

    @property
    def version(self) -> str:
        return f"{VELOCITY_VERSION}(payments>{self.max_payments}/10min,amount>{self.max_amount}/24h)"


@dataclass(frozen=True)
class SeenPayment:
    payment_id: str
    at: datetime
    amount: Decimal


def velocity_reasons(payments: list[SeenPayment], at: datetime, thresholds: Thresholds) -> list[str]:
    """The windows ending at `at` (the payment being reviewed, included)."""
    recent = [p for p in payments if at - PAYMENTS_WINDOW < p.at <= at]
    day = [p for p in payments if at - AMOUNT_WINDOW < p.at <= at]
    reasons = []
    if len(recent) > thresholds.max_payments:
        reasons.append(f"velocity: {len(recent)} payments by this customer within 10 minutes "
                       f"(more than {thresholds.max_payments})")
    total = sum((p.amount for p in day), Decimal("0.00"))
    if total > thresholds.max_amount:
        reasons.append(f"velocity: {total} CNY paid by this customer within 24 hours "
                       f"(more than {thresholds.max_amount} CNY)")
    return reasons


def window_id(customer_id: str) -> UUID:
    return stable_id("velocity-window", customer_id)


class VelocityWindow(TracedAggregate):
    """The payments one customer made within the longest window, by event time."""

    @staticmethod
    def create_id(customer_id: str) -> UUID:
        return window_id(customer_id)

    @event("Opened")
    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        self.payments: list[SeenPayment] = []

    def record(self, payment_id: UUID, at: datetime, amount: Decimal) -> bool:
        """Once per payment; returns False for a payment already counted."""
        if any(p.payment_id == str(payment_id) for p in self.payments):
            return False
        self._record(str(payment_id), at, amount)
        return True

    @event("PaymentSeen")
    def _record(self, payment_id: str, at: datetime, amount: Decimal) -> None:
        self.payments.append(SeenPayment(payment_id, at, amount))
        newest = max(p.at for p in self.payments)
        self.payments = sorted((p for p in self.payments if p.at > newest - KEPT), key=lambda p: p.at)

    def reasons(self, at: datetime, thresholds: Thresholds) -> list[str]:
        return velocity_reasons(self.payments, at, thresholds)
