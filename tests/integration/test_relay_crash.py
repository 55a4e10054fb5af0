"""The relay killed between publishing a batch and recording its position: the next relay
publishes the batch again, and nothing anywhere happens twice."""

from __future__ import annotations

from collections import Counter

import httpx

from service_runtime.eventlog import topic_for
from service_runtime.relay import KILLED_EXIT_CODE
from tests.e2e import journeys
from tests.support import (ServiceProcess, auth, envelopes, listen_to, metric, stack_env, stripe_env,
                           wait_until)

ORDERS = 4


def test_a_batch_published_again_after_a_relay_crash_has_no_second_effect(stack, namespace, launch, tmp_path,
                                                                         fake_stripe):
    env = {**stack_env(namespace, tmp_path / "var"), **stripe_env(fake_stripe)}
    # The orders gateway, worker and projector, without a relay: commands fill the outbox.
    orders = launch(["serve", "orders", "--mode", "stack", "--roles", "api,worker,projector"], env, "orders")
    fraud = launch(["serve", "fraud", "--mode", "stack"], env, "fraud")
    payments = launch(["serve", "payments", "--mode", "stack"], env, "payments")
    listen_to(fake_stripe, payments.url)
    urls = {"orders": orders.url, "payments": payments.url}
    orders_topic = topic_for("orders", namespace)

    # Payments learns an order's total from its OrderPlaced: a relay publishes the first orders, then stops,
    # and their payments are recorded into the outbox (PaymentRecorded, not yet published).
    customers = [f"relay-crash-{i}" for i in range(ORDERS)]
    placed = [journeys.place_order(orders.url, c) for c in customers]
    relay = launch(["serve", "orders", "--mode", "stack", "--roles", "relay"], env, "relay-0")
    wait_until(lambda: metric(relay.url, "kongfu_events_published_total", service="orders") >= ORDERS,
               what="the first relay to publish the placed orders and save its position")
    relay.stop()
    for customer, order in zip(customers, placed):
        assert journeys.wait_for_bill(urls, customer, order).status_code == 201
    for customer, order in zip(customers, placed):
        wait_until(lambda: len(journeys.get_order(orders.url, customer, order["order_id"])["payments"]) == 1,
                   what=f"orders to record the payment of {order['order_id']}")
    # More orders placed meanwhile: the outbox now holds a payment and a placement per order.
    late_customers = [f"relay-crash-late-{i}" for i in range(ORDERS)]
    late = [journeys.place_order(orders.url, c) for c in late_customers]
    before = Counter(str(e.event_id) for e in envelopes(stack["kafka"], orders_topic))
    assert len(before) == ORDERS and set(before.values()) == {1}

    crashing = ServiceProcess(["serve", "orders", "--mode", "stack", "--roles", "relay"],
                              {**env, "KONGFU_CHAOS_RELAY_EXIT_AFTER_PUBLISH": "true"}, tmp_path / "relay-1.log")
    crashing.spawn()
    assert crashing.proc.wait(timeout=90) == KILLED_EXIT_CODE, crashing.log_tail()
    after_crash = envelopes(stack["kafka"], orders_topic)
    first_batch = Counter(str(e.event_id) for e in after_crash) - before
    assert len(first_batch) == 2 * ORDERS and set(first_batch.values()) == {1}  # published, position not saved
    assert Counter(e.type for e in after_crash if str(e.event_id) in first_batch) == Counter(
        {"orders.PaymentRecorded": ORDERS, "orders.OrderPlaced": ORDERS})

    launch(["serve", "orders", "--mode", "stack", "--roles", "relay"], env, "relay-2")
    for customer, order in zip(late_customers, late):  # paid once payments has heard of them
        assert journeys.wait_for_bill(urls, customer, order).status_code == 201
    customers, placed = customers + late_customers, placed + late
    for customer, order in zip(customers, placed):
        journeys.wait_for_status(orders.url, customer, order["order_id"], "confirmed", timeout=60)
    wait_until(lambda: metric(fraud.url, "kongfu_events_duplicate_total", service="fraud")
               + metric(fraud.url, "kongfu_events_unchanged_total", service="fraud") >= 2 * ORDERS,
               what="fraud to skip every re-published event")

    published = envelopes(stack["kafka"], orders_topic)
    copies = Counter(str(e.event_id) for e in published)
    assert all(copies[event_id] == 2 for event_id in first_batch), "the batch was not published again"
    # Exactly one effect of each event, wherever it lands:
    decisions = Counter(str(e.order_id) for e in envelopes(stack["kafka"], topic_for("fraud", namespace))
                        if e.type in ("fraud.OrderCleared", "fraud.OrderFlagged"))
    assert decisions == Counter({o["order_id"]: 1 for o in placed}), "a payment got a second fraud decision"
    confirmations = Counter(str(e.order_id) for e in published if e.type == "orders.OrderConfirmed")
    assert confirmations == Counter({o["order_id"]: 1 for o in placed})
    for customer, order in zip(customers, placed):
        view = journeys.get_order(orders.url, customer, order["order_id"])
        assert view["version"] == 3 and len(view["payments"]) == 1  # placed, paid, confirmed: nothing more

        def timeline() -> list[dict]:
            return httpx.get(f"{orders.url}/orders/{order['order_id']}/timeline", timeout=10,
                             headers=auth(customer, "customer")).json()["entries"]

        wait_until(lambda: "order_confirmed" in [e["stage"] for e in timeline()], what="the timeline to catch up")
        stages = Counter(e["stage"] for e in timeline())
        assert all(count == 1 for count in stages.values()), f"a timeline entry twice: {stages}"
