from concurrent.futures import ThreadPoolExecutor

from kongfu.bench_driver import Driver


def test_every_answer_is_counted_once_by_status_and_conflicts_by_service():
    driver = Driver({"orders": "http://127.0.0.1:1"}, "s" * 32, "c" * 32, "kongfumall")
    answers = [("orders", 201), ("warehouse", 409), ("orders", 200), ("warehouse", 409), ("claims", 409),
               ("logistics", 0)] * 500
    with ThreadPoolExecutor(max_workers=8) as pool:  # the driver's threads report concurrently
        list(pool.map(lambda answer: driver.observe(*answer), answers))
    assert driver.answers_by_status() == {201: 500, 409: 1500, 200: 500, 0: 500}
    assert driver.conflicts_by_service() == {"claims": 500, "warehouse": 1000}
