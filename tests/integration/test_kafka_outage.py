"""The broker away for a while: commands still succeed (the outbox holds their events), the relay
backs off and says so in /readyz and its lag metric, then drains when the broker is back."""

from __future__ import annotations

import os
import subprocess
import time

import httpx

from service_runtime.eventlog import topic_for
from tests.e2e import journeys
from tests.support import ROOT, envelopes, metric, stack_env, wait_until

OUTAGE_SECONDS = 45  # the two minutes, shortened; the relay's backoff caps at 8 s


def kafka(action: str) -> None:
    subprocess.run([str(ROOT / "deploy/local/kafka.sh"), action], env=os.environ, check=True,
                   capture_output=True, timeout=240)


def degradations(base: str) -> list[str]:
    answer = httpx.get(f"{base}/readyz", timeout=30)
    assert answer.status_code == 200, f"the gateway must stay ready while the broker is away: {answer.text}"
    return answer.json().get("degraded", [])


def test_commands_succeed_while_kafka_is_away_and_the_outbox_drains_after(stack, namespace, launch, tmp_path):
    orders = launch(["serve", "orders", "--mode", "stack"], stack_env(namespace, tmp_path / "var"), "orders")
    first = journeys.place_order(orders.url, "before-outage")
    topic = topic_for("orders", namespace)
    wait_until(lambda: len(envelopes(stack["kafka"], topic)) == 1, what="the first order on the topic")

    kafka("stop")
    try:
        started = time.monotonic()
        placed = [journeys.place_order(orders.url, f"during-outage-{i}") for i in range(5)]  # 201 each
        wait_until(lambda: any("relay orders" in note for note in degradations(orders.url)), timeout=90,
                   what="/readyz to say the relay cannot publish")
        assert metric(orders.url, "kongfu_relay_lag", service="orders") >= len(placed)
        more = journeys.place_order(orders.url, "still-during-outage")  # still accepted
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))
    finally:
        kafka("start")

    expected = {o["order_id"] for o in [*placed, more]}
    wait_until(lambda: expected <= {str(e.aggregate_id) for e in envelopes(stack["kafka"], topic)}, timeout=90,
               what="the outbox to drain once the broker is back")
    wait_until(lambda: not degradations(orders.url), timeout=30, what="/readyz to clear")
    assert metric(orders.url, "kongfu_relay_lag", service="orders") == 0
    # At least once: batches the producer still held when a try timed out may arrive next to
    # their re-publication, under the same event ids, which consumers recognise. None is lost.
    placed_events = [e for e in envelopes(stack["kafka"], topic) if e.type == "orders.OrderPlaced"]
    assert len({e.event_id for e in placed_events}) == 7
    assert {str(e.aggregate_id) for e in placed_events} == expected | {first["order_id"]}
