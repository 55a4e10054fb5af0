"""On the real broker and database: a held order is emailed once, in the customer's language, and
neither a killed-and-restarted notifications process nor a re-published topic sends it again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import httpx

from kongfu.local import ROOT, free_port, wait_until
from tests.e2e.journeys import pay, place_order, wait_for_bill
from tests.integration.test_notifications import Mailbox
from tests.support import auth, listen_to, stack_env, stripe_env


def test_a_held_order_is_emailed_once_across_a_restart(stack, namespace, launch, tmp_path, fake_stripe):
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        env = {**stack_env(namespace, tmp_path / "var"), **stripe_env(fake_stripe),
               "KONGFU_SMTP_PORT": str(smtp.port)}
        orders = launch(["serve", "orders", "--mode", "stack"], env, "orders")
        payments = launch(["serve", "payments", "--mode", "stack"], env, "payments")
        listen_to(fake_stripe, payments.url)
        urls = {"orders": orders.url, "payments": payments.url}
        launch(["serve", "fraud", "--mode", "stack"], env, "fraud")
        notifications = launch(["serve", "notifications", "--mode", "stack"], env, "notifications")
        customer = f"wei-{uuid.uuid4().hex[:6]}"
        settings = httpx.put(f"{notifications.url}/me/notification-settings", headers=auth(customer, "customer"),
                             json={"language": "zh", "email": f"{customer}@example.com"})
        assert settings.status_code == 200, settings.text

        def held_order() -> None:
            order = place_order(orders.url, customer)
            assert wait_for_bill(urls, customer, order).status_code == 201
            assert pay(urls, customer, order).status_code == 201  # a second payment: held

        held_order()
        wait_until(lambda: len(mailbox.messages) == 1, timeout=60, what="the held-order email")
        assert mailbox.messages[0]["subject"] == "您的订单已暂停" and mailbox.messages[0]["language"] == "zh-CN"

        notifications.kill()  # SIGKILL, then the same process comes back
        notifications.start()
        out = subprocess.run([sys.executable, "-m", "kongfu.cli", "republish", "orders"], cwd=ROOT,
                             env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        held_order()
        wait_until(lambda: len(mailbox.messages) >= 2, timeout=60, what="the second held-order email")
        time.sleep(3)  # room for a duplicate to show up, were one coming
        assert [m["subject"] for m in mailbox.messages] == ["您的订单已暂停", "您的订单已暂停"]
        assert len({m["message_id"] for m in mailbox.messages}) == 2
    finally:
        smtp.stop()
