from datetime import datetime, timedelta, timezone
from decimal import Decimal

from services.warehouse.storage import milestones_passed, storage_state

STORED = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)


def on_day(day: int) -> datetime:
    return STORED + timedelta(days=day, hours=1)


def test_ninety_days_are_free_then_a_daily_fee_accrues():
    assert storage_state(STORED, on_day(90)) | {} == storage_state(STORED, on_day(90))
    free = storage_state(STORED, on_day(90))
    assert free["state"] == "free" and free["fees_due"] == "0.00" and free["free_days_left"] == 0
    assert storage_state(STORED, on_day(10))["free_days_left"] == 80
    charged = storage_state(STORED, on_day(95))
    assert charged["state"] == "fees_accruing" and Decimal(charged["fees_due"]) == Decimal("5.00")


def test_reminders_at_sixty_and_eighty_days_and_abandonment_at_180():
    assert milestones_passed(STORED, on_day(59)) == []
    assert milestones_passed(STORED, on_day(60)) == ["reminder_60"]
    assert milestones_passed(STORED, on_day(80)) == ["reminder_60", "reminder_80"]
    assert milestones_passed(STORED, on_day(180))[-1] == "abandoned"
    assert storage_state(STORED, on_day(180))["state"] == "abandoned"
    assert storage_state(STORED, on_day(179))["days_until_abandoned"] == 1
