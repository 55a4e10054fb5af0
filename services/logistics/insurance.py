"""Shipping insurance (pure rules and the cover's aggregate; published at `GET /rules/insurance`).

Offered when the customer pays shipping, until the parcel is handed to the carrier: the premium
is a published percentage of the parcel's declared value (what was paid for its items), with a
minimum and a cap; buying or declining is an event. Claims pays an insured parcel's loss,
seizure or damage from the insured value (see `services/claims/compensation.py`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict
from service_runtime.tracing import TracedAggregate, stable_id

INSURANCE_VERSION = "insurance-2026.12"
PREMIUM_RATE = Decimal("0.03")
PREMIUM_MINIMUM = Decimal("5.00")
PREMIUM_CAP = Decimal("300.00")
INSURED_VALUE_CAP = Decimal("10000.00")  # the most a claim pays, freight included


def premium_for(declared_value: Decimal) -> Decimal:
    premium = max(declared_value * PREMIUM_RATE, PREMIUM_MINIMUM)
    return min(premium, PREMIUM_CAP).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def published_insurance() -> dict[str, Any]:
    return {"version": INSURANCE_VERSION, "currency": "CNY", "premium_rate": str(PREMIUM_RATE),
            "premium_minimum": str(PREMIUM_MINIMUM), "premium_cap": str(PREMIUM_CAP),
            "insured_value_cap": str(INSURED_VALUE_CAP),
            "offered": "when paying shipping, until the parcel is handed to the carrier",
            "covers": ["lost", "seized", "damaged"]}


def cover_id(parcel_id: UUID) -> UUID:
    return stable_id("shipping-insurance", parcel_id)


class InsuranceCover(TracedAggregate):
    """The customer's one choice for a parcel: insured (with its premium) or declined."""

    @staticmethod
    def create_id(parcel_id: UUID, **_: Any) -> UUID:
        return cover_id(parcel_id)

    @event("Chosen")
    def __init__(self, parcel_id: UUID, customer_id: str, order_ids: list, insured: bool, declared_value: Decimal,
                 premium: Decimal, currency: str, rules_version: str, order_id: UUID | None = None) -> None:
        self.parcel_id = parcel_id
        self.customer_id = customer_id
        self.order_ids = list(order_ids)
        self.order_id = order_id
        self.insured = insured
        self.declared_value = declared_value
        self.premium = premium

    @classmethod
    def choose(cls, parcel_id: UUID, customer_id: str, order_ids: list, insured: bool,
               declared_value: Decimal, handed_over: bool) -> "InsuranceCover":
        if handed_over:
            raise Conflict(f"parcel {parcel_id} is already with the carrier; insurance is offered until handover")
        premium = premium_for(declared_value) if insured else Decimal("0.00")
        return cls(parcel_id=parcel_id, customer_id=customer_id, order_ids=order_ids, insured=insured,
                   declared_value=declared_value, premium=premium, currency="CNY",
                   rules_version=INSURANCE_VERSION, order_id=order_ids[0] if order_ids else None)


class CarrierIncident(TracedAggregate):
    """The carrier's report that a parcel will not arrive (lost, seized, returned by customs);
    the first report is the parcel's fate."""

    @staticmethod
    def create_id(parcel_id: UUID, **_: Any) -> UUID:
        return stable_id("carrier-incident", parcel_id)

    @event("Reported")
    def __init__(self, parcel_id: UUID, order_ids: list, incident: str, carrier: str, carrier_event_id: str,
                 location: str, carrier_time: Any, order_id: UUID | None = None) -> None:
        self.parcel_id = parcel_id
        self.order_ids = list(order_ids)
        self.order_id = order_id
        self.incident = incident
