"""No lost events, no duplicated effects, bad messages parked: on the real broker and database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from contracts.envelope import Envelope
from service_runtime.eventlog import dead_letter_topic, topic_for
from tests.e2e import journeys
from tests.support import (ROOT, ServiceProcess, envelopes, listen_to, metric, publish_raw, read_topic, stack_env,
                           stripe_env, wait_until)

DECISIONS = {"fraud.OrderCleared", "fraud.OrderFlagged"}


def distinct_by_order(items: list[Envelope], types: set[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for envelope in items:
        if envelope.type in types:
            found[str(envelope.order_id)].add(str(envelope.event_id))
    return found


def test_fraud_killed_mid_stream_decides_every_order_exactly_once(stack, namespace, launch, tmp_path, fake_stripe):
    env = {**stack_env(namespace, tmp_path / "var"), **stripe_env(fake_stripe)}
    orders = launch(["serve", "orders", "--mode", "stack"], env, "orders")
    payments = launch(["serve", "payments", "--mode", "stack"], env, "payments")
    listen_to(fake_stripe, payments.url)
    urls = {"orders": orders.url, "payments": payments.url}
    fraud_args = ["serve", "fraud", "--mode", "stack", "--roles", "relay,worker"]
    fraud = launch(fraud_args, env, "fraud")
    customers = [f"crash-{i}" for i in range(60)]
    placed = [journeys.place_order(orders.url, c) for c in customers]

    def pay(index: int) -> None:
        response = journeys.wait_for_bill(urls, customers[index], placed[index])
        assert response.status_code == 201, response.text

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(pay, range(0, 20)))
        wait_until(lambda: journeys.get_order(orders.url, customers[0], placed[0]["order_id"])["status"]
                   == "confirmed", what="fraud to start deciding")
        fraud.kill()  # SIGKILL: no shutdown hooks, mid-batch
        list(pool.map(pay, range(20, 60)))  # in flight while fraud is down
    restarted = ServiceProcess(fraud_args, env, tmp_path / "fraud-restarted.log").start()
    try:
        for customer, order in zip(customers, placed):
            journeys.wait_for_status(orders.url, customer, order["order_id"], "confirmed", timeout=60)
    finally:
        restarted.stop()

    order_ids = {o["order_id"] for o in placed}
    decisions = distinct_by_order(envelopes(stack["kafka"], topic_for("fraud", namespace)), DECISIONS)
    assert set(decisions) == order_ids
    assert {len(ids) for ids in decisions.values()} == {1}, "an order got more than one decision"
    confirmations = distinct_by_order(envelopes(stack["kafka"], topic_for("orders", namespace)),
                                      {"orders.OrderConfirmed"})
    assert set(confirmations) == order_ids and {len(ids) for ids in confirmations.values()} == {1}


def test_republishing_a_relay_batch_changes_nothing(slice_on_stack, stack):
    urls, namespace = slice_on_stack, slice_on_stack["namespace"]
    customers = [f"replay-{i}" for i in range(5)]
    placed = [journeys.place_order(urls["orders"], c) for c in customers]
    for customer, order in zip(customers, placed):
        assert journeys.wait_for_bill(urls, customer, order).status_code == 201
    before = {o["order_id"]: journeys.wait_for_status(urls["orders"], c, o["order_id"], "confirmed")["version"]
              for c, o in zip(customers, placed)}
    fraud_events_before = envelopes(stack["kafka"], topic_for("fraud", namespace))
    def seen() -> float:  # duplicates of handled types, plus events of types fraud does not handle
        orders = topic_for("orders", namespace)
        return (metric(urls["fraud"], "kongfu_events_duplicate_total", service="fraud", topic=orders)
                + metric(urls["fraud"], "kongfu_events_consumed_total", service="fraud", topic=orders))

    seen_before = seen()

    out = subprocess.run([sys.executable, "-m", "kongfu.cli", "republish", "orders", "--mode", "stack"],
                         env={**os.environ, **slice_on_stack["env"]}, cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    republished = int(re.search(r"re-published (\d+)", out.stdout).group(1))
    assert republished >= 3 * len(placed)  # placed, paid, confirmed for each

    wait_until(lambda: seen() >= seen_before + republished, what="fraud to see every re-published event")
    fraud_events_after = envelopes(stack["kafka"], topic_for("fraud", namespace))
    assert {e.event_id for e in fraud_events_after} == {e.event_id for e in fraud_events_before}
    after = {o["order_id"]: journeys.get_order(urls["orders"], c, o["order_id"])["version"]
             for c, o in zip(customers, placed)}
    assert after == before


def test_malformed_messages_are_dead_lettered_and_later_ones_processed(slice_on_stack, stack):
    namespace = slice_on_stack["namespace"]
    topic = topic_for("orders", namespace)
    publish_raw(stack["kafka"], topic, b"poison-1", b"\x00 this is not json")
    bad_payload = Envelope(event_id=uuid.uuid4(), type="orders.PaymentRecorded", schema_version=1,
                           occurred_at="2026-11-28T00:00:00Z", producer="orders", aggregate_id=uuid.uuid4(),
                           aggregate_version=2, payload={"order_id": "nope", "amount": "lots"})
    publish_raw(stack["kafka"], topic, b"poison-2", bad_payload.model_dump_json().encode())

    journeys.place_pay_confirm(slice_on_stack)  # a good order after the bad messages

    parked = wait_until(lambda: len(r := read_topic(stack["kafka"], dead_letter_topic(topic))) >= 2 and r,
                        what="two dead-lettered messages")
    reasons = {m.key: dict(m.headers)["dlq_reason"].decode() for m in parked}
    assert "envelope invalid" in reasons[b"poison-1"]
    assert "orders.PaymentRecorded v1 payload invalid" in reasons[b"poison-2"]
    source = json.loads(dict(parked[0].headers)["dlq_source"])
    assert source["topic"] == topic and "offset" in source
    assert {m.value for m in parked} == {b"\x00 this is not json", bad_payload.model_dump_json().encode()}
