from concurrent.futures import ThreadPoolExecutor

import httpx

from kongfu.bench_driver import CONCURRENT, Driver


def test_every_answer_is_counted_once_by_status_and_conflicts_by_service():
    driver = Driver({"orders": "http://127.0.0.1:1"}, "s" * 32, "c" * 32, "kongfumall")
    not_yet = httpx.Response(409, json={"detail": "damaged claims open once the parcel is delivered"})
    lost_race = httpx.Response(409, json={"title": "Conflict", "detail": CONCURRENT})
    answers = [("orders", 201, None), ("warehouse", 409, lost_race), ("orders", 200, None),
               ("claims", 409, not_yet), ("claims", 409, not_yet), ("logistics", 0, None)] * 500
    with ThreadPoolExecutor(max_workers=8) as pool:  # the driver's threads report concurrently
        list(pool.map(lambda answer: driver.observe(*answer), answers))
    assert driver.answers_by_status() == {201: 500, 409: 1500, 200: 500, 0: 500}
    assert driver.conflicts_by_service() == {"claims": 1000, "warehouse": 500}
    assert driver.lost_races_by_service() == {"warehouse": 500}
