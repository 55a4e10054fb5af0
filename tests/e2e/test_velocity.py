"""Velocity holds on Kafka + PostgreSQL and on the embedded default: a customer's third payment within
ten minutes (the threshold set low for the test) holds the order; a risk analyst releases it.

Its own module: the slice it starts should not share the machine with the module-wide platform."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e import journeys
from tests.support import auth, listen_to, paypal_env, stack_env, stripe_env

VELOCITY = {"KONGFU_FRAUD_VELOCITY_MAX_PAYMENTS": "2"}


@pytest.fixture(params=["stack", "embedded"])
def velocity_platform(request, launch, tmp_path, fake_stripe, fake_paypal):
    providers = {**stripe_env(fake_stripe), **paypal_env(fake_paypal), **VELOCITY}
    if request.param == "stack":
        request.getfixturevalue("stack")
        env = {**stack_env(f"v{uuid.uuid4().hex[:10]}", tmp_path / "var"), **providers}
        urls = {name: launch(["serve", name, "--mode", "stack"], env, name).url
                for name in ("orders", "fraud", "payments")}
    else:
        secrets = stack_env("", tmp_path)
        env = {"KONGFU_VAR_DIR": str(tmp_path / "var"), "KONGFU_JWT_SECRET": secrets["KONGFU_JWT_SECRET"],
               **providers}
        url = launch(["run"], env, "embedded").url
        urls = {name: url for name in ("orders", "fraud", "payments")}
    listen_to(fake_stripe, urls["payments"])
    listen_to(fake_paypal, urls["payments"])
    return urls


def test_a_third_payment_within_ten_minutes_is_held_and_an_analyst_releases_it(velocity_platform):
    urls, customer = velocity_platform, f"cust-{uuid.uuid4().hex[:8]}"
    orders = [journeys.place_order(urls["orders"], customer, unit_price="20.00") for _ in range(3)]
    for order in orders[:2]:
        assert journeys.wait_for_bill(urls, customer, order).status_code == 201
        journeys.wait_for_status(urls["orders"], customer, order["order_id"], "confirmed")
    assert journeys.wait_for_bill(urls, customer, orders[2]).status_code == 201
    held = journeys.wait_for_status(urls["orders"], customer, orders[2]["order_id"], "on_hold")
    assert any(reason.startswith("velocity: 3 payments") for reason in held["status_reasons"]), held
    analyst = auth("risk-1", "risk_analyst")
    queue = httpx.get(f"{urls['fraud']}/fraud/review-queue", headers=analyst, timeout=10).json()
    (case,) = [c for c in queue if c["order_id"] == orders[2]["order_id"]]
    assert "velocity-2026.12" in case["decisions"][-1]["rules_version"]
    released = httpx.post(f"{urls['fraud']}/fraud/cases/{orders[2]['order_id']}/review", headers=analyst, timeout=10,
                          json={"decision": "release", "reason": "a reseller restocking, known customer"})
    assert released.status_code == 200, released.text
    journeys.wait_for_status(urls["orders"], customer, orders[2]["order_id"], "confirmed")
