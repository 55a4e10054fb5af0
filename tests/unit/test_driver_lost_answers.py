"""The demo and fault-run driver behaves like a frontend when the answer to a command is lost:
a claim whose opening answer never arrived is found through the 409 that the retry gets, not
retried until the patience runs out."""

from __future__ import annotations

import json
import uuid

import httpx

from kongfu.demo import Lifecycle

CLAIM_ID = str(uuid.uuid4())


def test_a_claim_opened_by_an_attempt_whose_answer_was_lost_is_taken_up():
    attempts = {"open": 0}

    def platform(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/claims":
            attempts["open"] += 1
            if attempts["open"] == 1:  # committed, but the answer never reaches the client
                raise httpx.ReadError("connection closed before the answer", request=request)
            return httpx.Response(409, json={"status": 409, "existing_claim_id": CLAIM_ID,
                                             "detail": f"claim {CLAIM_ID} is already open for this item"})
        if request.method == "GET" and request.url.path == f"/claims/{CLAIM_ID}":
            return httpx.Response(200, json={"claim_id": CLAIM_ID, "status": "open"})
        if request.method == "POST" and request.url.path == f"/claims/{CLAIM_ID}/decision":
            assert json.loads(request.content)["approved"] is True
            return httpx.Response(200, json={"claim_id": CLAIM_ID, "status": "approved"})
        return httpx.Response(404, json={"status": 404, "detail": "no such resource"})

    trip = Lifecycle({"claims": "http://platform"}, lambda subject, role: "token", None, retry_for=5.0,
                     patience=3.0, client=httpx.Client(transport=httpx.MockTransport(platform)))
    decided = trip.claim_damage("parcel-1", "KF-1")
    assert decided["claim_id"] == CLAIM_ID and decided["status"] == "approved"
    assert attempts["open"] == 2


def test_a_shipment_request_whose_answer_was_lost_is_packed_through_its_items():
    """The warehouse answers a repeated shipment request with 409 (an item ships once); the
    parcel the first attempt made is named by its items."""
    parcel_id, attempts, packed = str(uuid.uuid4()), {"request": 0}, []

    def platform(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/warehouse/shipment-requests":
            attempts["request"] += 1
            if attempts["request"] == 1:
                raise httpx.ReadError("connection closed before the answer", request=request)
            return httpx.Response(409, json={"status": 409, "detail": "KF-1 is already in a shipment request"})
        if request.method == "GET" and path == "/warehouse/items/KF-1":
            return httpx.Response(200, json={"traceability_code": "KF-1", "parcel_id": parcel_id})
        if request.method == "GET" and path == f"/warehouse/parcels/{parcel_id}/packing-plan":
            return httpx.Response(200, json={"materials": ["box-m"], "cushioning": "air pillows"})
        if request.method == "POST" and path == f"/warehouse/parcels/{parcel_id}/pack":
            packed.append(parcel_id)
            return httpx.Response(200, json={"parcel_id": parcel_id, "status": "packed"})
        return httpx.Response(404, json={"status": 404, "detail": "no such resource"})

    trip = Lifecycle({"warehouse": "http://platform"}, lambda subject, role: "token", None, retry_for=5.0,
                     patience=3.0, client=httpx.Client(transport=httpx.MockTransport(platform)))
    assert trip.consolidate_and_pack(["KF-1"]) == parcel_id
    assert packed == [parcel_id] and attempts["request"] == 2
