"""Storage in our warehouse, as published to customers (pure: dates in, state out).

An item is stored free for 90 days from the day it is put on the shelf; from day 91 a daily fee
accrues until its parcel ships, when the fees due are settled with the shipping. Reminders go out
at 60 and 80 days; at 180 days an item nobody asked to ship is abandoned: the customer is told,
and it is donated (usable goods) or disposed of (the rest), never silently.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

FREE_DAYS = 90
DAILY_FEE = Decimal("1.00")  # CNY per item per day after the free period
CURRENCY = "CNY"
REMINDER_DAYS = (60, 80)
ABANDONED_AFTER_DAYS = 180
RULES_VERSION = "storage-2026-11"
DISPOSAL = ("Abandoned items are donated to charity when usable, otherwise disposed of; "
            "the customer is told at each step.")


# Deadlines scheduled when an item is stored (cancelled when it is put in a shipment request).
MILESTONES = {"reminder_60": REMINDER_DAYS[0], "reminder_80": REMINDER_DAYS[1], "abandoned": ABANDONED_AFTER_DAYS}


def days_stored(stored_at: datetime, until: datetime) -> int:
    """Whole days on the shelf; the day it was stored counts as day 0."""
    return max(0, (until - stored_at).days)


def storage_state(stored_at: datetime, until: datetime) -> dict:
    """`until` is now for an item still stored, or when its parcel shipped (fees stop there)."""
    days = days_stored(stored_at, until)
    fee_days = max(0, days - FREE_DAYS)
    if days >= ABANDONED_AFTER_DAYS:
        state = "abandoned"
    elif fee_days:
        state = "fees_accruing"
    else:
        state = "free"
    return {
        "days_used": days,
        "free_days_left": max(0, FREE_DAYS - days),
        "fee_days": fee_days,
        "fees_due": str((DAILY_FEE * fee_days).quantize(Decimal("0.01"))),
        "currency": CURRENCY,
        "state": state,
        "days_until_abandoned": max(0, ABANDONED_AFTER_DAYS - days),
        "rules_version": RULES_VERSION,
    }


def milestones_passed(stored_at: datetime, until: datetime) -> list[str]:
    """Which notices are due by `until`: reminders at 60 and 80 days, abandonment at 180."""
    days = days_stored(stored_at, until)
    due = [f"reminder_{d}" for d in REMINDER_DAYS if days >= d]
    if days >= ABANDONED_AFTER_DAYS:
        due.append("abandoned")
    return due
