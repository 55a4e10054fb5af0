"""Disputes (pure; published with the claim windows): a customer may contest a claim's decision
once, within 14 days of it; a second-level reviewer (the `claims_reviewer` role, never the agent
who decided first) upholds or changes it with a reason, and may correct a money fact the first
decision used (e.g. the item's value, shown by the customer's receipt). A changed decision pays
only what the new one adds to what was paid; nothing already paid is taken back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Mapping

from service_runtime.errors import Conflict, DomainError, Forbidden

DISPUTE_DAYS = 14


def check_dispute(status: str, decided_at: datetime, disputed: bool, now: datetime) -> None:
    if status == "open":
        raise Conflict("a claim can be disputed once it is decided")
    if disputed:
        raise Conflict("this decision was already disputed; a decision is disputed once")
    deadline = decided_at + timedelta(days=DISPUTE_DAYS)
    if now > deadline:
        raise Conflict(f"too late: a decision may be disputed within {DISPUTE_DAYS} days; it was decided on "
                       f"{decided_at.isoformat()}, so the deadline was {deadline.isoformat()}")


def check_reviewer(reviewer: str, first_decider: str, customer_id: str, under_review: bool) -> None:
    if not under_review:
        raise Conflict("this claim has no dispute awaiting review")
    if reviewer == customer_id:
        raise Forbidden("a dispute cannot be reviewed by the customer who raised it")
    if reviewer == first_decider:
        raise Forbidden("a dispute is reviewed by a second-level reviewer, not by the agent who decided first")


# The facts a reviewer may correct; the parcel's value follows a corrected item value.
CORRECTABLE_FACTS = ("item_value", "insured_value", "shipping_fee")


def reviewed_facts(first_inputs: Mapping[str, str], kind: str, approved: bool, already_paid: Decimal,
                   corrections: Mapping[str, Decimal]) -> dict[str, str]:
    """The facts a second-level decision is evaluated on: the first decision's, corrected."""
    facts = {**first_inputs, "kind": kind, "approved": str(approved).lower(), "already_paid": str(already_paid)}
    for name, value in sorted(corrections.items()):
        if name not in CORRECTABLE_FACTS or name not in first_inputs:
            raise DomainError(f"the first decision did not use {name.replace('_', ' ')}; it used "
                              f"{sorted(set(first_inputs) & set(CORRECTABLE_FACTS)) or 'none of the correctable facts'}")
        if name == "item_value" and "parcel_value" in facts:
            facts["parcel_value"] = str(Decimal(facts["parcel_value"]) - Decimal(first_inputs[name]) + value)
        facts[name] = str(value)
    if corrections:
        facts["corrected_facts"] = ",".join(sorted(corrections))
    return facts
