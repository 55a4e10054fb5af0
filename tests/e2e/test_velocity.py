"""Velocity holds on Kafka + PostgreSQL (decided by fraud's `streams` role, faust-streaming agents
with windowed tables) and on the embedded default (decided in-process by the same rules), with
thresholds set low for the test: a customer's third payment within the hour, one card used by a
second customer, and a new account's first order above the limit each hold the order; a risk
analyst releases one. On the stack the verdict is read off the agents' topic, and delivering it
again changes nothing.

Its own module: the slice it starts should not share the machine with the module-wide platform."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import httpx
import pytest

from tests.e2e import journeys
from tests.support import auth, envelopes, listen_to, metric, new_namespace, paypal_env, publish_raw, read_topic, stack_env, \
    stripe_env, wait_until

VELOCITY = {"KONGFU_FRAUD_VELOCITY_MAX_PAYMENTS": "2", "KONGFU_FRAUD_VELOCITY_MAX_CUSTOMERS_PER_CARD": "1",
            "KONGFU_FRAUD_VELOCITY_FIRST_ORDER_LIMIT": "1000.00", "KONGFU_FRAUD_VELOCITY_VERSION": "e2e-1"}
ANALYST = auth("risk-1", "risk_analyst")


@pytest.fixture(params=["stack", "embedded"])
def velocity_platform(request, launch, tmp_path, fake_stripe, fake_paypal):
    providers = {**stripe_env(fake_stripe), **paypal_env(fake_paypal), **VELOCITY}
    if request.param == "stack":
        stack = request.getfixturevalue("stack")
        namespace = new_namespace("v")
        env = {**stack_env(namespace, tmp_path / "var"), **providers}
        urls = {name: launch(["serve", name, "--mode", "stack"], env, name).url  # default roles: streams too
                for name in ("orders", "fraud", "payments")}
        urls.update(kafka=stack["kafka"], namespace=namespace)
    else:
        secrets = stack_env("", tmp_path)
        env = {"KONGFU_VAR_DIR": str(tmp_path / "var"), "KONGFU_JWT_SECRET": secrets["KONGFU_JWT_SECRET"],
               **providers}
        url = launch(["run"], env, "embedded").url
        urls = {name: url for name in ("orders", "fraud", "payments")}
    listen_to(fake_stripe, urls["payments"])
    listen_to(fake_paypal, urls["payments"])
    return urls


def clear_of_the_hour_boundary(margin: float = 120) -> None:
    """The windows are tumbling hours of event time: start the journey well inside one hour."""
    now = datetime.now(timezone.utc)
    left = 3600 - (now.minute * 60 + now.second)
    if left < margin:
        time.sleep(left + 1)


def paid(urls: dict, customer: str, order: dict, card: str) -> None:
    answer = wait_until(lambda: (r := journeys.pay(urls, customer, order, token=card)).status_code != 404 and r,
                                 what=f"payments to know order {order['order_id']}")
    assert answer.status_code == 201, answer.text


def held_for(urls: dict, customer: str, order: dict, rule: str) -> dict:
    held = journeys.wait_for_status(urls["orders"], customer, order["order_id"], "on_hold", timeout=60)
    assert any(f"velocity ({rule})" in reason for reason in held["status_reasons"]), held
    return held


def test_velocity_rules_hold_orders_and_an_analyst_releases_one(velocity_platform):
    urls = velocity_platform
    clear_of_the_hour_boundary()
    alice, bob, carol = (f"{name}-{uuid.uuid4().hex[:8]}" for name in ("alice", "bob", "carol"))

    # More than 2 payments by one customer within the hour: the third order is held.
    orders = [journeys.place_order(urls["orders"], alice, unit_price="20.00") for _ in range(3)]
    for order in orders[:2]:
        paid(urls, alice, order, "pm_card_visa")
        journeys.wait_for_status(urls["orders"], alice, order["order_id"], "confirmed", timeout=60)
    paid(urls, alice, orders[2], "pm_card_visa")
    held_for(urls, alice, orders[2], "customer_payments_per_hour")

    # The same card (same Stripe fingerprint) for a second customer within the hour.
    bobs = journeys.place_order(urls["orders"], bob, unit_price="20.00")
    paid(urls, bob, bobs, "pm_card_visa")
    held_for(urls, bob, bobs, "card_customers_per_hour")

    # A new account's first order above the limit (1000 CNY here), paid with a card of its own.
    carols = journeys.place_order(urls["orders"], carol, unit_price="600.00")
    paid(urls, carol, carols, "pm_card_mastercard")
    held_for(urls, carol, carols, "first_order_amount")

    queue = {c["order_id"]: c for c in httpx.get(f"{urls['fraud']}/fraud/review-queue", headers=ANALYST,
                                                  timeout=10).json()}
    assert {orders[2]["order_id"], bobs["order_id"], carols["order_id"]} <= set(queue)
    assert "velocity-2026.12b/e2e-1(payments>2/h" in queue[orders[2]["order_id"]]["decisions"][-1]["rules_version"]
    released = httpx.post(f"{urls['fraud']}/fraud/cases/{orders[2]['order_id']}/review", headers=ANALYST, timeout=10,
                          json={"decision": "release", "reason": "a reseller restocking, known customer"})
    assert released.status_code == 200, released.text
    journeys.wait_for_status(urls["orders"], alice, orders[2]["order_id"], "confirmed")

    if "kafka" in urls:
        verdicts_came_from_the_agents_and_a_redelivery_changes_nothing(urls, alice, orders[2], [bobs, carols])


def verdicts_came_from_the_agents_and_a_redelivery_changes_nothing(urls, alice, released, others) -> None:
    topic = f"{urls['namespace']}.kongfu.fraud-streams.events"
    verdicts = [e for e in envelopes(urls["kafka"], topic) if e.type == "fraud.VelocityRuleTripped"]
    by_order = {(str(e.order_id), e.payload["rule"]) for e in verdicts}
    assert {(released["order_id"], "customer_payments_per_hour"), (others[0]["order_id"], "card_customers_per_hour"),
            (others[1]["order_id"], "first_order_amount")} <= by_order
    assert all(e.producer == "fraud-streams" and e.actor == "system:fraud-streams" for e in verdicts)

    # Deliver the released order's verdict again: fraud's worker finds it known (by its content, or
    # by its event id when a reaction saved something) and changes nothing.
    record = next(r for r in read_topic(urls["kafka"], topic)
                  if released["order_id"].encode() == r.key and b"customer_payments_per_hour" in r.value)
    case_before = httpx.get(f"{urls['fraud']}/fraud/cases/{released['order_id']}", headers=ANALYST, timeout=10).json()

    def skipped() -> float:
        return (metric(urls["fraud"], "kongfu_events_duplicate_total", topic=topic)
                + metric(urls["fraud"], "kongfu_events_unchanged_total", topic=topic))

    skipped_before = skipped()
    publish_raw(urls["kafka"], topic, record.key, record.value)
    wait_until(lambda: skipped() > skipped_before,
               what="fraud to skip the redelivered verdict")
    case_after = httpx.get(f"{urls['fraud']}/fraud/cases/{released['order_id']}", headers=ANALYST, timeout=10).json()
    assert case_after == case_before
    assert journeys.get_order(urls["orders"], alice, released["order_id"])["status"] == "confirmed"
