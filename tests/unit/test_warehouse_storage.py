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


def test_the_storage_fees_due_are_frozen_on_the_packing_event(tmp_path):
    """Fees accrue until the parcel is packed to ship; the packing event carries each item's
    figure, so logistics bills exactly that (and a fee-free item is a zero)."""
    from service_runtime.clock import ManualClock
    from tests.unit.test_warehouse_app import stored
    from services.warehouse.bootstrap import bootstrap
    from tests.apptest import ServiceHarness

    warehouse = ServiceHarness(bootstrap, tmp_path)
    clock = ManualClock(STORED)
    warehouse.app.clock = clock
    staff, alice = warehouse.as_("wh-1", "warehouse_staff"), warehouse.as_("alice", "customer")
    old = stored(warehouse, staff, "SF900000000021")
    clock.advance(days=60)
    recent = stored(warehouse, staff, "SF900000000022")
    clock.advance(days=43, hours=1)  # the first item has been on the shelf 103 days, the second 43
    parcel_id = warehouse.client.post("/warehouse/shipment-requests", headers=alice, json={
        "traceability_codes": [old, recent], "destination_country": "GB"}).json()["parcel_id"]
    packed = warehouse.client.post(f"/warehouse/parcels/{parcel_id}/pack", headers=staff, json={
        "weight_kg": "0.6", "length_cm": "30", "width_cm": "20", "height_cm": "5",
        "materials": ["recycled carton", "paper void fill"], "cushioning": "recycled kraft paper cushioning"})
    assert packed.status_code == 200, packed.text
    [event] = [e for e in warehouse.published() if e.type == "warehouse.ParcelPacked"]
    assert event.schema_version == 2
    fees = {fee["traceability_code"]: fee for fee in event.payload["storage_fees"]}
    assert (fees[old]["days_stored"], fees[old]["fee_days"], fees[old]["amount"]) == (103, 13, "13.00")
    assert (fees[recent]["fee_days"], fees[recent]["amount"]) == (0, "0.00")
