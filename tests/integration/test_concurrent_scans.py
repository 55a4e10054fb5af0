"""No hot aggregate: a burst of scans before their shipment records, from 20 clients at once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support import auth, stack_env, wait_until

CLIENTS = 20


def test_twenty_concurrent_scanners_never_see_a_conflict(stack, namespace, launch, tmp_path):
    warehouse = launch(["serve", "warehouse", "--mode", "stack"], stack_env(namespace, tmp_path / "var"), "warehouse")
    staff = auth("scanner", "warehouse_staff")
    batch = uuid.uuid4().hex[:8].upper()
    tracking_numbers = [f"YT{batch}{n:04d}" for n in range(CLIENTS * 5)]

    def scan_all(client_no: int) -> list[int]:
        with httpx.Client(headers=staff, timeout=60) as client:
            return [client.post(f"{warehouse.url}/warehouse/inbound", json={"tracking_number": number,
                                                                          "carrier": "YTO"}).status_code
                    for number in tracking_numbers[client_no::CLIENTS]]

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = [status for answers in pool.map(scan_all, range(CLIENTS)) for status in answers]
    assert statuses == [200] * len(tracking_numbers), f"answers other than 200: {sorted(set(statuses))}"

    def queued() -> set[str]:
        parcels = httpx.get(f"{warehouse.url}/warehouse/unmatched", headers=staff, timeout=30).json()
        return {p["tracking_number"] for p in parcels if p["tracking_number"].startswith(f"YT{batch}")}

    wait_until(lambda: queued() == set(tracking_numbers), timeout=60, what="every scan in the unmatched queue")
    # A second scan of a parcel already waiting is refused for what it is, not for a race.
    again = httpx.post(f"{warehouse.url}/warehouse/inbound", headers=staff, timeout=30,
                       json={"tracking_number": tracking_numbers[0], "carrier": "YTO"})
    assert again.status_code == 409 and "already received" in again.json()["detail"]
