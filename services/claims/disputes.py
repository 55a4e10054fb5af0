"""Disputes (pure; published with the claim windows): a customer may contest a claim's decision
once, within 14 days of it; a second-level reviewer, never the agent who decided first, upholds
or changes it with a reason. A changed decision pays only what the new one adds to what was paid.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from service_runtime.errors import Conflict, Forbidden

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
