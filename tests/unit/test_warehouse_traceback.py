"""Batch quality traceback in process: batch queries, a recall that holds and reports, the weekly report."""

from datetime import date

import pytest

from services.warehouse.traceback import iso_week, week_bounds
from tests.unit.test_warehouse_app import payloads, receive, staff, stored, warehouse  # noqa: F401 - fixtures

BOX = {"weight_kg": "0.6", "length_cm": "30", "width_cm": "20", "height_cm": "5",
       "materials": ["recycled carton", "paper void fill"], "cushioning": "recycled kraft paper cushioning"}


@pytest.fixture
def analyst(warehouse):
    return warehouse.as_("rita", "risk_analyst")


def test_a_recall_holds_what_is_here_and_lists_what_has_left(warehouse, staff, analyst):
    alice = warehouse.as_("alice", "customer")
    shipped = stored(warehouse, staff, "SF700000000001")
    here = stored(warehouse, staff, "SF700000000002")
    waiting = receive(warehouse, staff, "SF700000000003")  # not yet inspected
    parcel_id = warehouse.client.post("/warehouse/shipment-requests", headers=alice, json={
        "traceability_codes": [shipped], "destination_country": "GB"}).json()["parcel_id"]
    assert warehouse.client.post(f"/warehouse/parcels/{parcel_id}/pack", headers=staff, json=BOX).status_code == 200

    found = warehouse.client.get("/warehouse/batches/items?merchant_id=m-88231", headers=staff).json()
    assert {i["traceability_code"]: i["status"] for i in found} == {
        shipped: "packed", here: "stored", waiting: "awaiting_inspection"}
    by_intake = warehouse.client.get("/warehouse/batches/items?intake=SF700000000002", headers=staff).json()
    assert [i["traceability_code"] for i in by_intake] == [here]
    today = date.today().isoformat()
    assert len(warehouse.client.get(f"/warehouse/batches/items?item_id=6543217890&received_from={today}",
                                    headers=staff).json()) == 3
    assert warehouse.client.get("/warehouse/batches/items?received_to=2001-01-01", headers=staff).json() == []
    assert warehouse.client.get("/warehouse/batches/items", headers=staff).status_code == 422
    assert warehouse.client.get("/warehouse/batches/items?sku=x", headers=alice).status_code == 403

    assert warehouse.client.post("/warehouse/recalls", headers=staff,
                                 json={"merchant_id": "m-88231", "reason": "lead glaze"}).status_code == 403
    recall = warehouse.client.post("/warehouse/recalls", headers=analyst,
                                   json={"merchant_id": "m-88231", "reason": "lead in the glaze"})
    assert recall.status_code == 201, recall.text
    assert sorted(recall.json()["held"]) == sorted([here, waiting]) and recall.json()["shipped"] == [shipped]
    events = {p["traceability_code"]: p for p in payloads(warehouse, "warehouse.ItemRecalled")}
    assert events[shipped]["shipped"] is True and events[shipped]["parcel_id"] == parcel_id
    assert events[here]["shipped"] is False and events[here]["reason"] == "lead in the glaze"

    again = warehouse.client.post("/warehouse/shipment-requests", headers=alice, json={
        "traceability_codes": [here], "destination_country": "GB"})
    assert again.status_code == 409 and "recalled" in again.json()["detail"]
    assert warehouse.client.get(f"/warehouse/items/{here}", headers=alice).json()["status"] == "held_for_recall"
    second = warehouse.client.post("/warehouse/recalls", headers=analyst,
                                   json={"merchant_id": "m-88231", "reason": "again"})
    assert second.json()["held"] == [] and len(payloads(warehouse, "warehouse.ItemRecalled")) == 3


def test_the_weekly_report_counts_failures_by_merchant_and_category_once(warehouse, staff):
    stored(warehouse, staff, "SF700000000004")
    failed = receive(warehouse, staff, "SF700000000005", quantity=2)
    warehouse.client.post(f"/warehouse/items/{failed}/inspection", headers=staff, json={
        "quantity_checked": 1, "exterior_condition": "intact", "photos": ["p://1", "p://2", "p://3"]})
    week = iso_week(date.today())
    report = warehouse.client.post("/warehouse/quality-reports", headers=staff, json={"week": week}).json()
    assert report["rows"] == [{"platform": "taobao", "merchant_id": "m-88231", "category": "general",
                               "inspected": 2, "failed": 1, "failure_rate": "0.50"}]
    warehouse.client.post("/warehouse/quality-reports", headers=staff, json={"week": week})
    (published,) = payloads(warehouse, "warehouse.QualityTracebackReported")
    assert published["week"] == week and published["rows"][0]["failed"] == 1
    assert warehouse.client.post("/warehouse/quality-reports", headers=staff,
                                 json={"week": "2026-W60"}).status_code == 422


def test_weeks_are_iso_weeks():
    assert iso_week(date(2026, 11, 28)) == "2026-W48"
    assert week_bounds("2026-W48") == (date(2026, 11, 23), date(2026, 11, 29))


def test_after_the_first_report_a_durable_timer_publishes_the_next_week(tmp_path):
    from datetime import datetime, timezone

    from service_runtime.clock import ManualClock
    from service_runtime.timers import TimerScheduler
    from services.warehouse.bootstrap import bootstrap
    from services.warehouse.traceback_app import WEEKLY_REPORT
    from tests.apptest import ServiceHarness

    harness = ServiceHarness(bootstrap, tmp_path)
    clock = ManualClock(datetime(2026, 11, 28, 12, tzinfo=timezone.utc))
    harness.app.clock = clock
    staff = harness.as_("packer-1", "warehouse_staff")
    assert harness.client.post("/warehouse/quality-reports", headers=staff, json={"week": "2026-W48"}).status_code == 200
    scheduler = TimerScheduler(harness.app, harness.parts.timers, clock, "warehouse")
    scheduler.refresh()
    assert scheduler.fire_due() == 0
    clock.advance(days=11)  # past the end of 2026-W49 (6 December) and its two days of grace
    scheduler.refresh()
    assert scheduler.fire_due() == 1
    weeks = [p["week"] for p in payloads(harness, "warehouse.QualityTracebackReported")]
    assert weeks == ["2026-W48", "2026-W49"]
    assert WEEKLY_REPORT in harness.parts.timers
