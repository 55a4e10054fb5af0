"""A PostgreSQL restart under reads: 503 with Retry-After while it is away, never 500, then recovery."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from urllib.parse import urlparse

import httpx

from tests.e2e import journeys
from tests.support import ROOT, auth, listen_to, stack_env, stripe_env, wait_until


def postgres(action: str, dsn: str) -> None:
    """The stack's own PostgreSQL (the one `make test` started), stopped or started."""
    env = {**os.environ, "KONGFU_PG_PORT": str(urlparse(dsn).port or 5432)}
    subprocess.run([str(ROOT / "deploy/local/postgres.sh"), action], env=env, check=True,
                   capture_output=True, timeout=120)


def test_reads_answer_503_with_retry_after_while_postgres_restarts(stack, namespace, launch, tmp_path, fake_stripe):
    env = {**stack_env(namespace, tmp_path / "var"), **stripe_env(fake_stripe)}
    orders = launch(["serve", "orders", "--mode", "stack"], env, "orders")
    payments = launch(["serve", "payments", "--mode", "stack"], env, "payments")
    listen_to(fake_stripe, payments.url)
    urls = {"orders": orders.url, "payments": payments.url}
    customer = "pg-restart"
    order = journeys.place_order(orders.url, customer)
    headers = auth(customer, "customer")
    timeline = f"{orders.url}/orders/{order['order_id']}/timeline"
    wait_until(lambda: httpx.get(timeline, headers=headers, timeout=10).status_code == 200,
               what="the timeline to show the placed order")

    answers: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def read_forever(url: str) -> None:
        with httpx.Client(headers=headers, timeout=60) as client:
            while not stop.is_set():
                try:
                    response = client.get(url)
                    answers.append((response.status_code, response.headers.get("retry-after")))
                except httpx.TransportError:
                    answers.append((0, None))  # the gateway must answer; counted as a failure below
                time.sleep(0.05)

    readers = [threading.Thread(target=read_forever, args=(url,), daemon=True)
               for url in (timeline, f"{orders.url}/orders/{order['order_id']}")]
    for reader in readers:
        reader.start()
    ready_while_away = live_while_away = None
    try:
        time.sleep(1)
        postgres("stop", stack["pg_dsn"])
        try:
            time.sleep(4)  # reads keep coming while the database is away
            ready_while_away = httpx.get(f"{orders.url}/readyz", timeout=30)
            live_while_away = httpx.get(f"{orders.url}/healthz", timeout=10)
        finally:
            postgres("start", stack["pg_dsn"])
        recovered_at = len(answers)
        wait_until(lambda: [s for s, _ in answers[recovered_at:]][-6:] == [200] * 6, timeout=60,
                   what="reads to succeed again after the restart")
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=90)

    statuses = Counter(status for status, _ in answers)
    assert ready_while_away.status_code == 503, ready_while_away.text
    assert ready_while_away.headers["content-type"].startswith("application/problem+json")
    assert live_while_away.status_code == 200, "liveness must stay up while the database is away"
    assert statuses[503] > 0, f"no 503 while the database was away: {statuses}"
    assert all(retry_after for status, retry_after in answers if status == 503), "a 503 without Retry-After"
    assert set(statuses) <= {200, 503}, f"only 200 and 503 are acceptable answers: {statuses}"
    assert httpx.get(f"{orders.url}/readyz", timeout=30).status_code == 200
    # Commands work again too, and the timeline catches up with them.
    paid = journeys.wait_for_bill(urls, customer, order)
    assert paid.status_code == 201, paid.text
