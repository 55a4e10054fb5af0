"""The warehouse in process: intake and matching, inspection, storage, shipment requests, packing."""

import uuid
from decimal import Decimal

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from contracts.orders import QcResolutionChosen
from contracts.purchasing import DomesticShipmentRecorded
from services.warehouse.bootstrap import bootstrap
from services.warehouse.codes import parse_code
from tests.apptest import ServiceHarness

PHOTOS = ["photo://intake/1", "photo://intake/2", "photo://intake/3"]


@pytest.fixture
def warehouse(tmp_path):
    return ServiceHarness(bootstrap, tmp_path)


@pytest.fixture
def staff(warehouse):
    return warehouse.as_("packer-1", "warehouse_staff")


@pytest.fixture
def alice(warehouse):
    return warehouse.as_("alice", "customer")


def shipment(tracking: str, category: str = "general", customer: str = "alice", quantity: int = 1,
             amount_paid: str = "118.00", line_no: int = 1, order_id: uuid.UUID | None = None):
    return DomesticShipmentRecorded(
        task_id=uuid.uuid4(), order_id=order_id or uuid.uuid4(), customer_id=customer, line_no=line_no,
        carrier="SF Express", tracking_number=tracking, platform="taobao", item_id="6543217890", sku="celadon vase",
        quantity=quantity, category=category, amount_paid=Decimal(amount_paid), merchant_id="m-88231",
        merchant_name="Hangzhou Good Goods Store", platform_order_no="TB1234567", receipt_ref="receipt://taobao/1",
        agent_id="purchasing-agent-1")


def receive(warehouse, staff, tracking: str, **facts) -> str:
    warehouse.react(shipment(tracking, **facts))
    response = warehouse.client.post("/warehouse/inbound", headers=staff,
                                     json={"tracking_number": tracking, "carrier": "SF Express"})
    assert response.status_code == 200, response.text
    return response.json()["traceability_code"]


def stored(warehouse, staff, tracking: str, category: str = "general", **facts) -> str:
    code = receive(warehouse, staff, tracking, category=category, **facts)
    if category != "general":
        assert warehouse.client.post(f"/warehouse/items/{code}/special-inspection", headers=staff, json={
            "checks": ["no cracks under light"], "passed": True, "notes": ""}).status_code == 200
    inspected = warehouse.client.post(f"/warehouse/items/{code}/inspection", headers=staff, json={
        "quantity_checked": facts.get("quantity", 1), "exterior_condition": "intact", "photos": PHOTOS})
    assert inspected.json()["inspection"]["passed"] is True, inspected.text
    assert warehouse.client.post(f"/warehouse/items/{code}/storage", headers=staff,
                                 json={"location": "A-03-017"}).status_code == 200
    return code


def payloads(warehouse, event_type: str) -> list[dict]:
    return [e.payload for e in warehouse.published() if e.type == event_type]


def test_a_parcel_that_was_announced_is_matched_and_gets_its_code(warehouse, staff):
    warehouse.react(shipment("sf 1234-5678-9012", order_id=uuid.UUID(int=7)))
    response = warehouse.client.post("/warehouse/inbound", headers=staff,
                                     json={"tracking_number": "SF123456789012", "carrier": "SF Express"})
    assert response.status_code == 200 and response.json()["matched"] is True
    code = response.json()["traceability_code"]
    assert parse_code(code) == code
    (received,) = payloads(warehouse, "warehouse.ItemReceived")
    assert received["traceability_code"] == code and received["staff_id"] == "packer-1"
    assert received["tracking_number"] == "SF123456789012" and received["merchant_name"] == "Hangzhou Good Goods Store"
    assert warehouse.published()[0].order_id == uuid.UUID(int=7)
    again = warehouse.client.post("/warehouse/inbound", headers=staff,
                                  json={"tracking_number": "SF123456789012", "carrier": "SF Express"})
    assert again.status_code == 409


def test_an_unannounced_parcel_waits_and_is_matched_when_its_shipment_record_arrives(warehouse, staff):
    scan = warehouse.client.post("/warehouse/inbound", headers=staff,
                                 json={"tracking_number": "YT0001112223", "carrier": "YTO"})
    assert scan.json()["matched"] is False and scan.json()["receipt_id"]
    warehouse.project()
    queue = warehouse.client.get("/warehouse/unmatched", headers=staff).json()
    assert [p["tracking_number"] for p in queue] == ["YT0001112223"]
    assert warehouse.client.post("/warehouse/inbound", headers=staff, json={
        "tracking_number": "YT0001112223", "carrier": "YTO"}).status_code == 409

    record = shipment("yt0001112223")
    assert warehouse.react(record) == "handled"
    assert warehouse.react(record) == "handled"  # re-sent under a new event id: nothing new
    (received,) = payloads(warehouse, "warehouse.ItemReceived")
    assert received["staff_id"] == "system:auto-match" and received["task_id"] == str(record.task_id)
    warehouse.project()
    assert warehouse.client.get("/warehouse/unmatched", headers=staff).json() == []
    assert warehouse.published_types() == ["warehouse.UnmatchedParcelReceived", "warehouse.ItemReceived"]
    assert warehouse.client.post("/warehouse/inbound", headers=staff, json={
        "tracking_number": "YT0001112223", "carrier": "YTO"}).status_code == 409


def test_a_scan_racing_the_shipment_record_is_a_conflict_not_a_lost_match(warehouse, staff):
    record = shipment("ZT4440001")
    changed = warehouse.parts.handlers[record.event_type](record, None)  # the reaction read before the scan
    assert warehouse.client.post("/warehouse/inbound", headers=staff, json={
        "tracking_number": "ZT4440001", "carrier": "ZTO"}).json()["matched"] is False
    with pytest.raises(IntegrityError):
        warehouse.app.save_reaction(*changed, tracking=Tracking("race:0", 1), event_id=uuid.uuid4())
    assert warehouse.react(record) == "handled"  # the consumer's retry sees the scan and matches
    assert payloads(warehouse, "warehouse.ItemReceived")[0]["staff_id"] == "system:auto-match"
    warehouse.project()
    assert warehouse.client.get("/warehouse/unmatched", headers=staff).json() == []


def test_two_purchases_in_one_parcel_get_a_code_each(warehouse, staff):
    order_id = uuid.uuid4()
    warehouse.react(shipment("JD555000111", order_id=order_id, line_no=1))
    warehouse.react(shipment("JD555000111", order_id=order_id, line_no=2))
    response = warehouse.client.post("/warehouse/inbound", headers=staff,
                                     json={"tracking_number": "JD555000111", "carrier": "JD Logistics"}).json()
    assert len(set(response["traceability_codes"])) == 2
    assert sorted(p["line_no"] for p in payloads(warehouse, "warehouse.ItemReceived")) == [1, 2]


def test_a_high_risk_item_needs_a_special_inspection_before_it_can_pass(warehouse, staff):
    vase = receive(warehouse, staff, "SF900000000001", category="fragile")
    inspection = {"quantity_checked": 1, "exterior_condition": "intact", "photos": PHOTOS}
    early = warehouse.client.post(f"/warehouse/items/{vase}/inspection", headers=staff, json=inspection)
    assert early.status_code == 409 and "needs a special-inspection record" in early.json()["detail"]
    special = warehouse.client.post(f"/warehouse/items/{vase}/special-inspection", headers=staff, json={
        "checks": ["no cracks under light", "lid fits"], "passed": True, "notes": "fragile goods protocol"})
    assert special.status_code == 200
    assert warehouse.client.post(f"/warehouse/items/{vase}/inspection", headers=staff,
                                 json=inspection).json()["inspection"]["passed"] is True
    (recorded,) = payloads(warehouse, "warehouse.SpecialInspectionRecorded")
    assert recorded["category"] == "fragile" and recorded["inspector_id"] == "packer-1" and recorded["order_id"]

    shirt = receive(warehouse, staff, "SF900000000002")
    refused = warehouse.client.post(f"/warehouse/items/{shirt}/special-inspection", headers=staff, json={
        "checks": ["x"], "passed": True, "notes": ""})
    assert refused.status_code == 409 and "high-risk" in refused.json()["detail"]


def test_a_failed_special_inspection_fails_quality_inspection(warehouse, staff):
    lens = receive(warehouse, staff, "SF900000000003", category="precision_instrument")
    warehouse.client.post(f"/warehouse/items/{lens}/special-inspection", headers=staff, json={
        "checks": ["calibration"], "passed": False, "notes": "off by 2%"})
    result = warehouse.client.post(f"/warehouse/items/{lens}/inspection", headers=staff, json={
        "quantity_checked": 1, "exterior_condition": "intact", "photos": PHOTOS}).json()
    assert result["inspection"]["passed"] is False
    assert result["inspection"]["issues"] == ["special inspection for precision instrument items failed"]


def test_failed_inspection_lists_its_issues_and_the_item_cannot_be_stored(warehouse, staff, alice):
    code = receive(warehouse, staff, "SF900000000004", quantity=2)
    failed = warehouse.client.post(f"/warehouse/items/{code}/inspection", headers=staff, json={
        "quantity_checked": 1, "exterior_condition": "damaged", "photos": PHOTOS, "notes": "box crushed"})
    assert failed.status_code == 200
    assert failed.json()["inspection"]["issues"] == ["quantity: 1 counted, 2 expected", "exterior damaged"]
    (inspected,) = payloads(warehouse, "warehouse.ItemInspected")
    assert inspected["passed"] is False and inspected["photos"] == PHOTOS and inspected["customer_id"] == "alice"
    assert warehouse.client.post(f"/warehouse/items/{code}/storage", headers=staff,
                                 json={"location": "A-01-001"}).status_code == 409
    assert warehouse.client.post(f"/warehouse/items/{code}/inspection", headers=staff, json={
        "quantity_checked": 2, "exterior_condition": "intact", "photos": PHOTOS}).status_code == 409

    order_id = uuid.UUID(inspected["order_id"])
    choice = QcResolutionChosen(order_id=order_id, line_no=1, traceability_code=code, choice="refund")
    assert warehouse.react(choice) == "handled"
    assert warehouse.client.get(f"/warehouse/items/{code}", headers=alice).json()["qc_resolution"] == "refund"
    shipping = warehouse.client.post("/warehouse/shipment-requests", headers=alice,
                                     json={"traceability_codes": [code], "destination_country": "GB"})
    assert shipping.status_code == 409 and "never be packed" in shipping.json()["detail"]


def test_a_passed_item_is_stored_once(warehouse, staff):
    code = stored(warehouse, staff, "SF900000000005")
    (item_stored,) = payloads(warehouse, "warehouse.ItemStored")
    assert item_stored == {"traceability_code": code, "order_id": item_stored["order_id"], "location": "A-03-017",
                           "staff_id": "packer-1"}
    assert warehouse.client.post(f"/warehouse/items/{code}/storage", headers=staff,
                                 json={"location": "B-01-001"}).status_code == 409


def test_a_customer_ships_only_their_own_stored_items(warehouse, staff, alice):
    mine = stored(warehouse, staff, "SF900000000006")
    not_stored = receive(warehouse, staff, "SF900000000007")
    bobs = stored(warehouse, staff, "SF900000000008", customer="bob")

    def request(*codes):
        return warehouse.client.post("/warehouse/shipment-requests", headers=alice,
                                     json={"traceability_codes": list(codes), "destination_country": "GB"})

    someone_elses = request(mine, bobs)
    assert someone_elses.status_code == 404 and bobs not in someone_elses.json()["detail"]  # never echoed
    assert request(mine, not_stored).status_code == 409
    created = request(mine)
    assert created.status_code == 201
    parcel = created.json()
    assert [i["traceability_code"] for i in parcel["items"]] == [mine] and parcel["status"] == "awaiting_packing"
    assert request(mine).status_code == 409  # already in a parcel
    (requested,) = payloads(warehouse, "warehouse.ConsolidationRequested")
    assert requested["parcel_id"] == parcel["parcel_id"] and requested["traceability_codes"] == [mine]
    bob = warehouse.as_("bob", "customer")
    assert warehouse.client.get(f"/warehouse/parcels/{parcel['parcel_id']}", headers=bob).status_code == 404
    assert warehouse.client.get(f"/warehouse/items/{mine}", headers=bob).status_code == 404
    for reader in (alice, staff, warehouse.as_("s-1", "support_agent"), warehouse.as_("a-1", "auditor")):
        assert warehouse.client.get(f"/warehouse/parcels/{parcel['parcel_id']}", headers=reader).status_code == 200
        assert warehouse.client.get(f"/warehouse/items/{mine}", headers=reader).status_code == 200
    assert warehouse.client.get(f"/warehouse/items/{mine}",
                                headers=warehouse.as_("l-1", "logistics_staff")).status_code == 404


def test_packing_fragile_goods_needs_the_plans_reinforcement(warehouse, staff, alice):
    vase = stored(warehouse, staff, "SF900000000009", category="fragile", amount_paid="268.00")
    shirts = stored(warehouse, staff, "SF900000000010", quantity=2)
    parcel_id = warehouse.client.post("/warehouse/shipment-requests", headers=alice, json={
        "traceability_codes": [vase, shirts], "destination_country": "GB"}).json()["parcel_id"]
    plan = warehouse.client.get(f"/warehouse/parcels/{parcel_id}/packing-plan", headers=staff).json()
    assert {"double-wall carton", "corner protectors", "paper void fill"} <= set(plan["materials"])
    assert "extra cushioning" in plan["cushioning"]
    box = {"weight_kg": "2.4", "length_cm": "40", "width_cm": "30", "height_cm": "20"}

    bare = warehouse.client.post(f"/warehouse/parcels/{parcel_id}/pack", headers=staff, json={
        **box, "materials": ["recycled carton", "paper void fill"], "cushioning": plan["cushioning"]})
    assert bare.status_code == 422
    assert "double-wall carton" in bare.json()["detail"] and "corner protectors" in bare.json()["detail"]
    assert payloads(warehouse, "warehouse.ParcelPacked") == []

    packed = warehouse.client.post(f"/warehouse/parcels/{parcel_id}/pack", headers=staff, json={
        **box, "materials": plan["materials"], "cushioning": plan["cushioning"]})
    assert packed.status_code == 200 and packed.json()["status"] == "packed"
    (event,) = payloads(warehouse, "warehouse.ParcelPacked")
    assert event["reinforced"] is True and event["staff_id"] == "packer-1" and event["customer_id"] == "alice"
    assert {i["traceability_code"]: (i["category"], i["quantity"], i["value"]) for i in event["items"]} == {
        vase: ("fragile", 1, "268.00"), shirts: ("general", 2, "118.00")}
    assert warehouse.client.post(f"/warehouse/parcels/{parcel_id}/pack", headers=staff, json={
        **box, "materials": plan["materials"], "cushioning": plan["cushioning"]}).status_code == 409
    assert warehouse.client.get(f"/warehouse/items/{vase}", headers=alice).json()["status"] == "packed"


def test_ordinary_goods_pack_without_reinforcement(warehouse, staff, alice):
    shirt = stored(warehouse, staff, "SF900000000011")
    parcel_id = warehouse.client.post("/warehouse/shipment-requests", headers=alice, json={
        "traceability_codes": [shirt], "destination_country": "GB"}).json()["parcel_id"]
    packed = warehouse.client.post(f"/warehouse/parcels/{parcel_id}/pack", headers=staff, json={
        "weight_kg": "0.6", "length_cm": "30", "width_cm": "20", "height_cm": "5",
        "materials": ["recycled carton", "paper void fill"], "cushioning": "recycled kraft paper cushioning"})
    assert packed.status_code == 200 and packed.json()["packing"]["reinforced"] is False


def test_customers_cannot_do_staff_work_and_staff_cannot_ship_for_customers(warehouse, staff, alice):
    code = receive(warehouse, staff, "SF900000000012")
    staff_only = [
        ("POST", "/warehouse/inbound", {"tracking_number": "SF1", "carrier": "SF"}),
        ("GET", "/warehouse/unmatched", None),
        ("POST", f"/warehouse/items/{code}/special-inspection", {"checks": ["x"], "passed": True, "notes": ""}),
        ("POST", f"/warehouse/items/{code}/inspection",
         {"quantity_checked": 1, "exterior_condition": "intact", "photos": PHOTOS}),
        ("POST", f"/warehouse/items/{code}/storage", {"location": "A-1"}),
        ("GET", f"/warehouse/parcels/{uuid.uuid4()}/packing-plan", None),
        ("POST", f"/warehouse/parcels/{uuid.uuid4()}/pack", {
            "weight_kg": "1", "length_cm": "1", "width_cm": "1", "height_cm": "1", "materials": [], "cushioning": "x"}),
    ]
    for method, path, body in staff_only:
        assert warehouse.client.request(method, path, headers=alice, json=body).status_code == 403, path
    assert warehouse.client.post("/warehouse/shipment-requests", headers=staff, json={
        "traceability_codes": [code], "destination_country": "GB"}).status_code == 403


@pytest.mark.parametrize("path, body", [
    ("/warehouse/items/{code}/inspection", {"quantity_checked": 1, "exterior_condition": "intact",
                                            "photos": PHOTOS[:2]}),
    ("/warehouse/items/{code}/inspection", {"quantity_checked": 1, "exterior_condition": "scratched",
                                            "photos": PHOTOS}),
    ("/warehouse/items/{code}/special-inspection", {"checks": [], "passed": True, "notes": ""}),
    ("/warehouse/items/{code}/storage", {"location": "A-1", "sneaky": True}),
    ("/warehouse/inbound", {"tracking_number": "SF<script>", "carrier": "SF"}),
])
def test_bad_input_is_a_422_problem(warehouse, staff, path, body):
    code = receive(warehouse, staff, "SF900000000013")
    response = warehouse.client.post(path.format(code=code), headers=staff, json=body)
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")


def test_bad_shipment_requests_and_packing_are_422(warehouse, staff, alice):
    code = stored(warehouse, staff, "SF900000000014")
    for body in ({"traceability_codes": [], "destination_country": "GB"},
                 {"traceability_codes": [code], "destination_country": "gb"},
                 {"traceability_codes": [code, code], "destination_country": "GB"}):
        assert warehouse.client.post("/warehouse/shipment-requests", headers=alice, json=body).status_code == 422
    parcel_id = warehouse.client.post("/warehouse/shipment-requests", headers=alice, json={
        "traceability_codes": [code], "destination_country": "GB"}).json()["parcel_id"]
    for weight in ("0", "-1", "heavy"):
        assert warehouse.client.post(f"/warehouse/parcels/{parcel_id}/pack", headers=staff, json={
            "weight_kg": weight, "length_cm": "1", "width_cm": "1", "height_cm": "1", "materials": [],
            "cushioning": "paper"}).status_code == 422


def test_a_mistyped_code_is_refused_never_matched_to_another_item(warehouse, staff):
    code = receive(warehouse, staff, "SF900000000015")
    typo = code[:-2] + ("0" if code[-2] != "0" else "1") + code[-1]
    response = warehouse.client.get(f"/warehouse/items/{typo}", headers=staff)
    assert response.status_code == 422 and "check character" in response.json()["detail"]
    assert warehouse.client.get(f"/warehouse/items/{code.lower()}", headers=staff).status_code == 200


def test_three_copies_of_one_photo_are_not_three_photos(warehouse, staff):
    mug = receive(warehouse, staff, "SF900000000002", category="general")
    response = warehouse.client.post(f"/warehouse/items/{mug}/inspection", headers=staff, json={
        "quantity_checked": 1, "exterior_condition": "intact", "photos": ["photo://a/1"] * 3})
    assert response.status_code == 422 and "3 different photos" in response.json()["detail"]


def test_a_counterfeit_fails_inspection_and_is_never_stored(warehouse, staff):
    code = receive(warehouse, staff, "SF900000000005")
    result = warehouse.client.post(f"/warehouse/items/{code}/inspection", headers=staff, json={
        "quantity_checked": 1, "exterior_condition": "intact", "photos": PHOTOS, "counterfeit": True,
        "notes": "logo misspelt, no hologram"}).json()
    assert result["inspection"]["passed"] is False and result["inspection"]["issues"] == ["counterfeit"]
    assert warehouse.client.post(f"/warehouse/items/{code}/storage", headers=staff,
                                 json={"location": "A-01-002"}).status_code == 409
