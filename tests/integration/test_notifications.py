"""Notifications reach customers once, in their language, over a real SMTP server and a signed
webhook, and a restarted service sends nothing twice."""

from __future__ import annotations

import json
import threading
import time
import uuid
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from contracts.claims import CompensationDecided, SurveyOffered
from contracts.logistics import ParcelShipped, TrackingUpdated
from contracts.orders import OrderHeld, OrderPlaced
from contracts.purchasing import PriceChangeRequested
from contracts.warehouse import ConsolidationRequested, ItemInspected
from kongfu.local import free_port
from service_runtime.signing import signature
from services.notifications.bootstrap import bootstrap
from services.notifications.domain import SENDING, Notification
from tests.apptest import ServiceHarness

WEBHOOK_SECRET = "test-notification-webhook-secret"


class Mailbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content)
        self.messages.append({"to": envelope.rcpt_tos[0], "subject": str(make_header(decode_header(message["Subject"]))),
                              "body": message.get_content() if hasattr(message, "get_content") else
                              message.get_payload(decode=True).decode(), "language": message["Content-Language"],
                              "message_id": message["Message-ID"]})
        return "250 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def chat_gateway():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append((self.headers["Kongfu-Signature"], body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/chat", received
    server.shutdown()


@pytest.fixture
def service(tmp_path, smtp, monkeypatch):
    controller, _ = smtp
    monkeypatch.setenv("KONGFU_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("KONGFU_NOTIFICATION_WEBHOOK_SECRET", WEBHOOK_SECRET)
    return lambda: ServiceHarness(bootstrap, tmp_path)


def dispatcher(harness: ServiceHarness):
    return harness.parts.worker_tasks[0].__self__


def lifecycle_events(customer: str) -> list:
    order_id, parcel_id, code = uuid.uuid4(), uuid.uuid4(), "KF0000000000X"
    return [
        OrderPlaced(order_id=order_id, customer_id=customer, destination_country="GB", lines=[{
            "line_no": 1, "platform": "taobao", "item_id": "1", "sku": "vase", "quantity": 1,
            "product_url": "https://item.taobao.com/item.htm?id=1", "unit_price": "10.00"}],
            quote={"currency": "CNY", "lines": [], "total": "10.00", "rules_version": "v1"}),
        PriceChangeRequested(task_id=uuid.uuid4(), order_id=order_id, line_no=1, quantity=1, old_unit_price="10.00",
                             new_unit_price="12.00", agent_id="agent-7"),
        ItemInspected(traceability_code=code, order_id=order_id, customer_id=customer, line_no=1, quantity_checked=1,
                      exterior_condition="cracked", photos=["photo://a/1", "photo://a/2", "photo://a/3"],
                      passed=False, issues=["exterior damaged"], staff_id="packer-1"),
        OrderHeld(order_id=order_id, reasons=["duplicate payment"]),
        ConsolidationRequested(parcel_id=parcel_id, customer_id=customer, order_ids=[order_id],
                               traceability_codes=[code], destination_country="GB"),
        ParcelShipped(parcel_id=parcel_id, order_ids=[order_id], traceability_codes=[code], line_code="express",
                      carrier="fake-express", tracking_number="KF1234567890GB", staff_id="ops-1"),
        TrackingUpdated(parcel_id=parcel_id, order_ids=[order_id], traceability_codes=[code], status="exception",
                        carrier="fake-express", carrier_event_id="e1", location="Heathrow customs",
                        carrier_time="2026-11-20T10:00:00+00:00"),
        TrackingUpdated(parcel_id=parcel_id, order_ids=[order_id], traceability_codes=[code], status="delivered",
                        carrier="fake-express", carrier_event_id="e2", location="London",
                        carrier_time="2026-11-21T10:00:00+00:00"),
        CompensationDecided(claim_id=uuid.uuid4(), parcel_id=parcel_id, customer_id=customer, order_ids=[order_id],
                            kind="damaged", approved=True, amount="10.00", currency="CNY", rule="damaged-item",
                            rule_version="compensation-2026.11", inputs={}, decided_by="support-9",
                            notes="photos show transport damage"),
        SurveyOffered(survey_id=uuid.uuid4(), customer_id=customer, order_id=order_id, about="receipt",
                      subject_id=parcel_id, handled_by="agent-7", line_code="express"),
    ]


KINDS = 9  # price change, QC failed, held, shipped, customs hold, delivered, claim decided, survey (+0 for placing)


def test_each_notification_once_in_the_customers_language_across_a_restart(service, smtp, chat_gateway):
    _, mailbox = smtp
    webhook_url, webhook_calls = chat_gateway
    first = service()
    settings = {"language": "zh", "email": "li@example.com", "webhook_url": webhook_url}
    assert first.client.put("/me/notification-settings", json=settings,
                            headers=first.as_("li", "customer")).status_code == 200
    assert first.client.put("/me/notification-settings", json={"language": "en", "email": "ann@example.com",
                                                                "webhook_url": webhook_url, "opted_out": ["webhook"]},
                            headers=first.as_("ann", "customer")).status_code == 200

    li_events, ann_events = lifecycle_events("li"), lifecycle_events("ann")
    event_ids = {}
    for payload in li_events + ann_events:
        event_ids[id(payload)] = uuid.uuid4()
        assert first.react(payload, event_id=event_ids[id(payload)]) == "handled"
    assert set(dispatcher(first).dispatch()) == {"sent"}

    li_mail = [m for m in mailbox.messages if m["to"] == "li@example.com"]
    ann_mail = [m for m in mailbox.messages if m["to"] == "ann@example.com"]
    assert len(li_mail) == len(ann_mail) == KINDS - 1
    assert all(m["language"] == "zh-CN" for m in li_mail) and all(m["language"] == "en" for m in ann_mail)
    subjects = {m["subject"] for m in li_mail}
    assert {"订单价格变动，需要您确认", "质检发现问题", "您的订单已暂停", "您的包裹已发出", "您的包裹被扣留", "您的包裹已送达",
            "您的售后申请已处理", "请为我们的服务评分"} == subjects
    assert "收货体验" in next(m["body"] for m in li_mail if m["subject"] == "请为我们的服务评分")
    assert "delivery" in next(m["body"] for m in ann_mail if m["subject"] == "How did we do?")
    assert "photo://a/1" in next(m["body"] for m in li_mail if m["subject"] == "质检发现问题")
    assert "已批准" in next(m["body"] for m in li_mail if m["subject"] == "您的售后申请已处理")
    assert "agent-7" not in str(mailbox.messages)  # who did it inside stays inside

    # The webhook: Li's eight, signed; Ann opted out of it.
    assert len(webhook_calls) == KINDS - 1
    for header, body in webhook_calls:
        timestamp, digest = (part.split("=", 1)[1] for part in header.split(","))
        assert digest == signature(WEBHOOK_SECRET, int(timestamp), body)
        assert json.loads(body)["language"] == "zh"

    # A redelivered event, a restarted service, a second dispatcher: nothing is sent again.
    assert first.react(li_events[1], event_id=event_ids[id(li_events[1])]) == "duplicate"
    restarted = service()
    assert restarted.react(li_events[3], event_id=event_ids[id(li_events[3])]) == "duplicate"
    assert dispatcher(restarted).dispatch() == ["skipped"] * (len(mailbox.messages) + len(webhook_calls))
    time.sleep(0.2)
    assert len(mailbox.messages) == 2 * (KINDS - 1) and len(webhook_calls) == KINDS - 1
    assert len({m["message_id"] for m in mailbox.messages}) == len(mailbox.messages)


def test_a_notification_claimed_before_a_crash_is_never_sent_again(service, smtp):
    _, mailbox = smtp
    harness = service()
    harness.client.put("/me/notification-settings", json={"language": "en", "email": "kim@example.com"},
                       headers=harness.as_("kim", "customer"))
    placed, _, _, held, *_ = lifecycle_events("kim")
    harness.react(placed)
    event_id = uuid.uuid4()
    harness.react(held, event_id=event_id)
    claimed = harness.app.find(Notification.create_id(str(event_id), "email"), Notification)
    claimed.start_sending()  # a sender claimed it, then the process died before or after the SMTP call
    harness.app.save(claimed)

    assert dispatcher(service()).dispatch() == ["skipped"]
    assert mailbox.messages == []  # at most once: an unconfirmed send is reported, not repeated
    assert harness.app.find(claimed.id, Notification).status == SENDING


def test_settings_are_the_customers_own_and_strict(service):
    harness = service()
    assert harness.client.get("/me/notification-settings", headers=harness.as_("new", "customer")).status_code == 404
    bad = harness.client.put("/me/notification-settings", json={"language": "fr", "email": "x@y.z"},
                             headers=harness.as_("new", "customer"))
    assert bad.status_code == 422
    staff = harness.client.put("/me/notification-settings", json={"language": "en"},
                               headers=harness.as_("ops", "support_agent"))
    assert staff.status_code == 403


def test_storage_lifecycle_fees_reminders_and_abandonment_by_email(service, smtp, tmp_path):
    """An item passes 60, 80, 90 and 180 days on an injected clock: the warehouse's durable timers
    fire once each, fees accrue after day 90, and the customer gets each notice by email."""
    from datetime import datetime, timedelta, timezone

    from service_runtime.clock import ManualClock
    from service_runtime.timers import TimerScheduler
    from services.warehouse.bootstrap import bootstrap as warehouse_bootstrap
    from services.warehouse.storage import storage_state
    from tests.unit.test_warehouse_app import stored

    _, mailbox = smtp
    warehouse = ServiceHarness(warehouse_bootstrap, tmp_path / "warehouse")
    clock = warehouse.app.clock = ManualClock(datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc))
    code = stored(warehouse, warehouse.as_("packer-1", "warehouse_staff"), "SF900000000001", customer="mei")
    scheduler = TimerScheduler(warehouse.app, warehouse.parts.timers, clock, "warehouse")
    notifications = service()
    notifications.client.put("/me/notification-settings", json={"language": "zh", "email": "mei@example.com"},
                             headers=notifications.as_("mei", "customer"))

    def day(n: int) -> list[dict]:
        clock.current = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc) + timedelta(days=n, minutes=1)
        scheduler.fire_due()
        notices = [e for e in warehouse.published() if e.type == "warehouse.StorageNoticeDue"]
        for envelope in notices:  # the notifications service reads them off the topic
            from contracts.warehouse import StorageNoticeDue

            notifications.react(StorageNoticeDue.model_validate(envelope.payload), event_id=envelope.event_id)
        dispatcher(notifications).dispatch()
        return [n.payload for n in notices]

    assert day(59) == [] and mailbox.messages == []
    assert [n["milestone"] for n in day(60)] == ["reminder_60"]
    assert [m["subject"] for m in mailbox.messages] == ["仓储提醒：已存放 60 天"]
    assert [n["milestone"] for n in day(80)] == ["reminder_60", "reminder_80"]
    stored_at = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
    assert storage_state(stored_at, stored_at + timedelta(days=95))["fees_due"] == "5.00"  # fees accrue after 90
    notices = day(180)
    assert notices[-1]["milestone"] == "abandoned" and notices[-1]["fees_due"] == "90.00"
    assert [m["subject"] for m in mailbox.messages] == ["仓储提醒：已存放 60 天", "仓储提醒：已存放 80 天",
                                                        "商品存放 180 天后视为弃置"]
    assert "捐赠" in mailbox.messages[-1]["body"] and code in mailbox.messages[-1]["body"]
    day(400)  # each deadline fired once
    assert len(mailbox.messages) == 3


def test_a_shipment_request_cancels_the_storage_deadlines(tmp_path):
    from datetime import datetime, timedelta, timezone

    from service_runtime.clock import ManualClock
    from service_runtime.timers import TimerScheduler
    from services.warehouse.bootstrap import bootstrap as warehouse_bootstrap
    from tests.unit.test_warehouse_app import stored

    warehouse = ServiceHarness(warehouse_bootstrap, tmp_path)
    clock = warehouse.app.clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    code = stored(warehouse, warehouse.as_("packer-1", "warehouse_staff"), "SF900000000002", customer="mei")
    assert warehouse.client.post("/warehouse/shipment-requests", headers=warehouse.as_("mei", "customer"), json={
        "traceability_codes": [code], "destination_country": "GB"}).status_code == 201
    clock.advance(days=365)
    assert TimerScheduler(warehouse.app, warehouse.parts.timers, clock, "warehouse").fire_due() == 0
    assert not [e for e in warehouse.published() if e.type == "warehouse.StorageNoticeDue"]
