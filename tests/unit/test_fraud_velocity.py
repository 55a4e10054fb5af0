"""Velocity rules: the pure rules (velocity_rules.py), the embedded default's in-process windows
over event times, verdicts from the streams role recorded once, and the agents' facts and verdict
envelopes (deterministic, so a re-run publishes the same ids). The agents themselves run on Kafka
in tests/e2e/test_velocity.py."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from contracts import Envelope
from contracts.fraud import VelocityRuleTripped
from contracts.orders import OrderPlaced, PaymentRecorded
from contracts.payments import PaymentSucceededV3
from services.fraud import velocity_rules as rules
from services.fraud.bootstrap import bootstrap as fraud_bootstrap
from services.fraud.velocity import verdict_id
from services.fraud.velocity_rules import Thresholds
from tests.apptest import ServiceHarness

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
LOW = Thresholds(max_payments=2, max_amount=Decimal("1000.00"), max_customers_per_card=1,
                 first_order_limit=Decimal("500.00"), settings_version="test-1")


def test_each_rule_fires_only_above_its_threshold():
    assert rules.customer_payments(2, Decimal("1000.00"), LOW) is None
    assert rules.customer_payments(3, Decimal("30.00"), LOW).rule == rules.CUSTOMER_PAYMENTS
    over = rules.customer_payments(1, Decimal("1000.01"), LOW)
    assert over.rule == rules.CUSTOMER_AMOUNT and "1000.01 CNY" in over.reason
    assert rules.card_customers(1, LOW) is None
    assert "2 customers" in rules.card_customers(2, LOW).reason
    assert rules.first_order(True, Decimal("500.00"), LOW) is None
    assert rules.first_order(False, Decimal("9000.00"), LOW) is None
    assert rules.first_order(True, Decimal("500.01"), LOW).rule == rules.FIRST_ORDER
    assert [v.rule for v in rules.payment_verdicts(3, Decimal("5000"), 2, LOW)] == [rules.CUSTOMER_PAYMENTS,
                                                                                  rules.CARD_CUSTOMERS]


def test_the_version_names_the_threshold_set_and_its_values():
    version = rules.customer_payments(3, Decimal(0), LOW).rules_version
    assert version == ("velocity-2026.12b/test-1(payments>2/h,amount>1000.00/h,customers-per-card>1/h,"
                       "first-order>500.00)")


def test_windows_are_tumbling_utc_hours_of_event_time():
    assert rules.window_of(T0 + timedelta(minutes=59, seconds=59)) == (T0, T0 + timedelta(hours=1))
    assert rules.window_of(T0 + timedelta(hours=1)) == (T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    shanghai = timezone(timedelta(hours=8))
    assert rules.window_of(datetime(2026, 11, 28, 18, 30, tzinfo=shanghai))[0] == T0


@pytest.fixture
def fraud(tmp_path, monkeypatch):
    for name, value in {"MAX_PAYMENTS": "2", "MAX_AMOUNT": "1000.00", "MAX_CUSTOMERS_PER_CARD": "1",
                        "FIRST_ORDER_LIMIT": "500.00", "VERSION": "test-1"}.items():
        monkeypatch.setenv(f"KONGFU_FRAUD_VELOCITY_{name}", value)
    return ServiceHarness(fraud_bootstrap, tmp_path)


def order(fraud, customer="alice", price="10.00", at=T0):
    order_id = uuid4()
    fraud.react(OrderPlaced.model_validate({
        "order_id": str(order_id), "customer_id": customer, "destination_country": "GB",
        "lines": [{"line_no": 1, "platform": "jd", "item_id": "1", "product_url": "https://item.jd.com/1.html",
                   "sku": "s", "quantity": 1, "unit_price": price}],
        "quote": {"currency": "CNY", "lines": [], "total": price, "rules_version": "t"}}), occurred_at=at)
    return order_id


def succeeded(order_id, customer, amount, card, payment_id):
    return PaymentSucceededV3(payment_id=payment_id, order_id=order_id, customer_id=customer, purpose="order",
                              amount=Decimal(amount), currency="CNY", method="card" if card else "paypal",
                              provider="stripe" if card else "paypal", reference=str(order_id),
                              card_fingerprint=card)


def paid(fraud, order_id, at, customer="alice", amount="10.00", card="fp-visa"):
    """As on the platform: payments publishes the outcome, then orders records the payment."""
    payment_id = uuid4()
    fraud.react(succeeded(order_id, customer, amount, card, payment_id), occurred_at=at)
    fraud.react(PaymentRecorded(order_id=order_id, payment_id=payment_id, amount=Decimal(amount), currency="CNY",
                                method="card"), occurred_at=at + timedelta(seconds=1))
    return payment_id


def reasons(fraud) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for e in fraud.published():
        if e.type in ("fraud.OrderCleared", "fraud.OrderFlagged"):
            found.setdefault(e.payload["order_id"], []).extend(e.payload.get("reasons", []))
    return found


def test_a_third_payment_within_the_hour_holds_that_order_and_a_redelivery_counts_once(fraud):
    orders = [order(fraud) for _ in range(4)]
    first = paid(fraud, orders[0], T0)
    fraud.react(succeeded(orders[0], "alice", "10.00", "fp-visa", first), occurred_at=T0)  # redelivered
    paid(fraud, orders[1], T0 + timedelta(minutes=30))
    paid(fraud, orders[2], T0 + timedelta(minutes=59))
    paid(fraud, orders[3], T0 + timedelta(minutes=61))  # the next hour: a new window
    decided = reasons(fraud)
    assert decided[str(orders[0])] == [] and decided[str(orders[1])] == [] and decided[str(orders[3])] == []
    (reason,) = decided[str(orders[2])]
    assert reason.startswith(f"velocity ({rules.CUSTOMER_PAYMENTS}): 3 payments")
    case = fraud.client.get(f"/fraud/cases/{orders[2]}", headers=fraud.as_("risk-1", "risk_analyst")).json()
    assert case["decisions"][0]["rules_version"].startswith("fraud-2026.11+velocity-2026.12b/test-1")


def test_one_card_for_a_second_customer_within_the_hour_holds_the_second_order(fraud):
    alices, bobs, carols = order(fraud), order(fraud, "bob"), order(fraud, "carol")
    paid(fraud, alices, T0, customer="alice", card="fp-shared")
    paid(fraud, bobs, T0 + timedelta(minutes=5), customer="bob", card="fp-shared")
    paid(fraud, carols, T0 + timedelta(minutes=5), customer="carol", card=None)  # PayPal: no card window
    decided = reasons(fraud)
    assert decided[str(alices)] == [] and decided[str(carols)] == []
    assert decided[str(bobs)] == [f"velocity ({rules.CARD_CUSTOMERS}): this card paid for 2 customers "
                                  "within an hour (more than 1)"]


def test_a_new_account_s_first_order_above_the_limit_is_held_when_paid(fraud):
    first = order(fraud, "dave", price="800.00")
    second = order(fraud, "dave", price="800.00", at=T0 + timedelta(days=2))
    paid(fraud, first, T0 + timedelta(minutes=1), customer="dave", amount="800.00")
    paid(fraud, second, T0 + timedelta(days=2, minutes=1), customer="dave", amount="800.00")
    decided = reasons(fraud)
    assert decided[str(first)] == [f"velocity ({rules.FIRST_ORDER}): a new account's first order of 800.00 CNY "
                                   "(more than 500.00 CNY)"]
    assert decided[str(second)] == []


def tripped(order_id, payment_id, rule=rules.CUSTOMER_PAYMENTS):
    return VelocityRuleTripped(verdict_id=verdict_id(payment_id, rule), order_id=order_id, customer_id="alice",
                               payment_id=payment_id, rule=rule, reason=f"velocity ({rule}): from the agents",
                               rules_version=LOW.version, window_start=T0, window_end=T0 + timedelta(hours=1))


def test_a_streams_verdict_after_the_payment_was_cleared_flags_the_order_once(tmp_path, monkeypatch):
    monkeypatch.setenv("KONGFU_FRAUD_VELOCITY_MAX_PAYMENTS", "100")
    fraud = ServiceHarness(fraud_bootstrap, tmp_path)
    fraud.parts.app.velocity_in_process = False  # as on the stack: the streams role decides
    order_id = order(fraud)
    payment_id = paid(fraud, order_id, T0)
    assert reasons(fraud)[str(order_id)] == []  # cleared before the agents' verdict arrived
    verdict = tripped(order_id, payment_id)
    fraud.react(verdict, occurred_at=T0)
    fraud.react(verdict, occurred_at=T0)  # a re-run of the agent: same verdict id
    assert reasons(fraud)[str(order_id)] == ["velocity (customer_payments_per_hour): from the agents"]
    flagged = [e for e in fraud.published() if e.type == "fraud.OrderFlagged"]
    assert len(flagged) == 1


def test_a_streams_verdict_before_the_payment_is_weighed_when_the_payment_is_reviewed(tmp_path):
    fraud = ServiceHarness(fraud_bootstrap, tmp_path)
    fraud.parts.app.velocity_in_process = False
    order_id, payment_id = order(fraud), uuid4()
    fraud.react(tripped(order_id, None, rules.FIRST_ORDER), occurred_at=T0)  # unpaid: nothing to hold yet
    assert reasons(fraud) == {}
    fraud.react(PaymentRecorded(order_id=order_id, payment_id=payment_id, amount=Decimal("10.00"), currency="CNY",
                                method="card"), occurred_at=T0)
    assert reasons(fraud)[str(order_id)] == ["velocity (first_order_amount): from the agents"]
    fraud.react(tripped(uuid4(), None, rules.FIRST_ORDER), occurred_at=T0)  # no case yet: kept, no error


def test_a_second_payment_s_verdict_before_the_payment_is_recorded_leaves_its_own_rules_to_run(tmp_path):
    """The agents read payments' topic, the worker orders': a verdict about a second payment may
    be handled before orders.PaymentRecorded of it. Flagging then marked that payment reviewed,
    and the duplicate-payment rule never ran for it."""
    fraud = ServiceHarness(fraud_bootstrap, tmp_path)
    fraud.parts.app.velocity_in_process = False
    order_id, first, second = order(fraud), uuid4(), uuid4()

    def recorded(payment_id):
        fraud.react(PaymentRecorded(order_id=order_id, payment_id=payment_id, amount=Decimal("10.00"),
                                    currency="CNY", method="card"), occurred_at=T0)

    recorded(first)
    assert reasons(fraud)[str(order_id)] == []
    fraud.react(tripped(order_id, second), occurred_at=T0)
    recorded(second)
    assert reasons(fraud)[str(order_id)] == ["duplicate payment: 2 payments were recorded for this order",
                                             "velocity (customer_payments_per_hour): from the agents"]
    recorded(second)  # redelivered
    assert len([e for e in fraud.published() if e.type == "fraud.OrderFlagged"]) == 1


def test_the_agents_facts_and_verdict_envelopes_are_deterministic():
    from services.fraud.streams import fact_from, verdict_record
    from service_runtime.publishing import event_id_for

    order_id, payment_id = uuid4(), uuid4()
    payload = succeeded(order_id, "alice", "10.00", "fp-visa", payment_id)
    envelope = Envelope(event_id=uuid4(), type=payload.event_type, schema_version=3, occurred_at=T0,
                        producer="payments", aggregate_id=payment_id, aggregate_version=2, order_id=order_id,
                        payload=payload.model_dump(mode="json"))
    fact = fact_from(envelope.model_dump_json().encode())
    assert (fact.kind, fact.customer_id, fact.card_fingerprint, fact.occurred_at) == ("payment", "alice", "fp-visa", T0)
    assert fact_from(b"not json") is None
    top_up = envelope.model_copy(update={"payload": {**envelope.payload, "purpose": "top_up", "order_id": None}})
    assert fact_from(top_up.model_dump_json().encode()) is None
    verdict = rules.customer_payments(3, Decimal("30.00"), LOW)
    key, value, headers = verdict_record(fact, verdict)
    assert (key, value, headers) == verdict_record(fact, verdict)  # a re-run publishes the same bytes
    published = Envelope.model_validate_json(value)
    assert key == str(order_id).encode() and published.occurred_at == T0
    assert published.event_id == UUID(event_id_for("fraud-streams", verdict_id(payment_id, verdict.rule), 1))
    assert published.payload["window_start"].startswith("2026-11-28T10:00:00")


def test_two_rules_tripped_by_one_payment_are_both_on_the_one_flag(fraud):
    paid(fraud, order(fraud, "alice"), T0, customer="alice", card="fp-shared")
    bobs = [order(fraud, "bob") for _ in range(3)]
    for minute, order_id in enumerate(bobs):
        paid(fraud, order_id, T0 + timedelta(minutes=minute + 1), customer="bob", card="fp-other" if minute < 2 else
             "fp-shared")
    rules_tripped = [reason.split(")")[0] for reason in reasons(fraud)[str(bobs[2])]]
    assert rules_tripped == [f"velocity ({rules.CUSTOMER_PAYMENTS}", f"velocity ({rules.CARD_CUSTOMERS}"]


def test_the_streams_app_keeps_its_files_under_the_var_directory(tmp_path):
    from service_runtime.settings import Settings
    from services.fraud.streams import build_app

    app = build_app(Settings(mode="stack", namespace="ns1", var_dir=tmp_path / "var"), LOW)
    app._create_directories()  # what the app does first when it starts  # noqa: SLF001
    assert app.conf.datadir.is_relative_to(tmp_path / "var")  # not the directory it runs from
    assert app.conf.tabledir.is_dir()


def test_the_streams_app_s_kafka_consumer_ticks_no_faster_than_the_services_own(tmp_path):
    import asyncio

    from service_runtime.fetch_pace import QUIET_FETCH_WAIT_MS
    from service_runtime.settings import Settings
    from services.fraud.streams import build_app

    async def consumer_the_app_would_start():
        app = build_app(Settings(mode="stack", namespace="ns1", var_dir=tmp_path / "var"), LOW)
        thread = app.consumer._thread  # noqa: SLF001 - the consumer thread faust starts
        return thread._create_worker_consumer(app.transport)  # noqa: SLF001 - built, not connected

    consumer = asyncio.run(consumer_the_app_would_start())
    assert consumer._consumer_timeout == QUIET_FETCH_WAIT_MS / 1000  # noqa: SLF001 - aiokafka's is 0.2 s
