"""Money conservation, as a property: random sequences of top-ups, payments (card and balance),
declines, QC refunds, compensations, withdrawals, shipping bills paid (card and balance, retried) and
redelivered events (also under new event ids), driven through the orders
and payments applications (SQLite stores, events pumped between them as the consumer runner would,
with duplicates), paying through the Stripe fake. After every sequence:

- the balance never went negative and equals the sum of the ledger's movements;
- the money the provider holds for the platform (charges minus refunds) equals what the ledger
  says came in by card minus what went back to a card;
- no payment counts twice for an order, and no refund exceeds what was paid for its order;
- a parcel's shipping bill is paid once at most, for exactly its total;
- a compensation never exceeds the claim rule's allowance (what was paid for the order);
- the ledger rebuilt from the log (once, in order) equals the live one (fed with redeliveries).
"""

from __future__ import annotations

import tempfile
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, given, settings, strategies as st

from datetime import datetime, timezone

from contracts import Envelope, parse_payload
from contracts.claims import CompensationDecided
from contracts.logistics import BillLineV1, ShippingBilled
from contracts.warehouse import ItemInspected
from service_runtime.auth import Caller
from service_runtime.errors import DomainError
from service_runtime.projections import ProjectionStore
from service_runtime.settings import Settings
from service_runtime.store import AlreadyProcessed
from services.orders import bootstrap as orders_bootstrap
from services.payments import bootstrap as payments_bootstrap
from services.payments.projections import LEDGER
from services.payments.providers.fake_stripe import DECLINED, FakeStripe

SECRET = "whsec_property"
CUSTOMERS = ("ana", "bo")
ITEM = "https://item.taobao.com/item.htm?id=1234567"


@pytest.fixture(scope="module")
def stripe():
    fake = FakeStripe(SECRET).start()
    yield fake
    fake.stop()


class Platform:
    """orders and payments on throwaway stores, with an in-memory topic between them."""

    def __init__(self, stripe: FakeStripe, var_dir: Path) -> None:
        settings = Settings(mode="embedded", var_dir=var_dir, jwt_secret="x" * 40, stripe_api_base=stripe.url,
                            stripe_webhook_secret=SECRET)
        self.stripe = stripe
        self.orders = orders_bootstrap.bootstrap(settings)
        self.payments = payments_bootstrap.bootstrap(settings)
        self.log: list = []  # every published envelope, in publication order
        self.seen = {"orders": 0, "payments": 0}
        self.offset = 0
        self.ledger_live = ProjectionStore(settings, "", "ledger-live")
        self.ledger_replayed = ProjectionStore(settings, "", "ledger-replayed")
        self.paid: dict[str, Decimal] = defaultdict(Decimal)  # order id -> confirmed payments
        self.orders_of: dict[str, list[str]] = defaultdict(list)
        self.parcels_of: dict[str, list[str]] = defaultdict(list)

    def caller(self, customer: str) -> Caller:
        return Caller(customer, frozenset({"customer"}))

    # the event log and the consumers ------------------------------------------------------

    def pump(self) -> None:
        """Publish what the stores recorded and deliver it to the other service, until quiet."""
        while True:
            fresh = []
            for parts in (self.orders, self.payments):
                start = self.seen[parts.name] + 1
                for notification in parts.app.recorder.select_notifications(start=start, limit=1000):
                    self.seen[parts.name] = notification.id
                    envelope = parts.publication.envelope(parts.app.mapper.to_domain_event(notification))
                    if envelope is not None:
                        fresh.append(envelope)
            if not fresh:
                return
            for envelope in fresh:
                self.log.append(envelope)
                self.deliver(envelope)

    def deliver(self, envelope, upstream_duplicate: bool = False) -> None:
        payload = parse_payload(envelope.type, envelope.schema_version, envelope.payload)
        if upstream_duplicate:  # the same fact under a new event id: only the domain can stop it
            envelope = envelope.model_copy(update={"event_id": uuid.uuid4()})
        else:
            self.ledger_live.apply(LEDGER.name, list(LEDGER.entries(envelope, payload)), {})
        for parts in (self.orders, self.payments):
            handler = parts.handlers.get(envelope.type)
            if handler is None:
                continue
            self.offset += 1
            try:
                changed = list(handler(payload, envelope))
                parts.app.save_reaction(*changed, tracking=Tracking("t:0", self.offset), event_id=envelope.event_id)
            except AlreadyProcessed:
                pass

    def redeliver(self, event_type: str, upstream_duplicate: bool) -> None:
        """Deliver the latest event of a type again (as a redelivery, or as an upstream duplicate)."""
        matching = [e for e in self.log if e.type == event_type]
        if matching:
            self.deliver(matching[-1], upstream_duplicate)
            self.pump()

    def webhooks(self, replay: bool) -> None:
        provider = self.payments.app.providers["card"]
        for payload, header in self.stripe.take_undelivered():
            for _ in range(2 if replay else 1):
                self.payments.app.on_webhook(provider.verify_webhook(payload.encode(), {"stripe-signature": header}))
        self.pump()

    # what customers and staff do -----------------------------------------------------------

    def place(self, customer: str, price: int) -> None:
        order = self.orders.app.place_order(customer, "US", [{"product_url": ITEM, "sku": "s", "quantity": 1,
                                                               "unit_price": f"{price}.00"}])
        self.orders_of[customer].append(str(order.id))
        self.pump()

    def pay(self, customer: str, which: int, method: str, declined: bool, replay: bool) -> None:
        if not self.orders_of[customer]:
            return
        order_id = uuid.UUID(self.orders_of[customer][which % len(self.orders_of[customer])])
        try:
            self.payments.app.pay_order(self.caller(customer), order_id, method,
                                        DECLINED if declined else "pm_card_visa", uuid.uuid4().hex)
        except DomainError:
            pass  # declined, or the balance is short: nothing changes
        self.webhooks(replay)

    def buy(self, customer: str, price: int, method: str) -> None:
        self.place(customer, price)
        self.pay(customer, len(self.orders_of[customer]) - 1, method, False, False)

    def top_up(self, customer: str, amount: int, replay: bool) -> None:
        self.payments.app.top_up(self.caller(customer), Decimal(amount), "card", "pm_card_visa", uuid.uuid4().hex)
        self.webhooks(replay)

    def qc_refund(self, customer: str, which: int) -> None:
        paid = [o for o in self.orders_of[customer] if self.orders.app.repository.get(uuid.UUID(o)).payments]
        if not paid:
            return
        order_id = uuid.UUID(paid[which % len(paid)])
        order = self.orders.app.repository.get(order_id)
        if 1 in order.cancelled_lines:
            return
        code = f"KF{which:010d}"
        order.ask_customer(1, "qc_failed", {"traceability_code": code, "photos": [], "issues": ["scratched"]})
        self.orders.app.save(order)
        self.orders.app.decide(self.caller(customer), order_id, 1, "refund")
        self.pump()

    def compensate(self, customer: str, which: int, share: int) -> None:
        paid = [o for o in self.orders_of[customer] if self.orders.app.repository.get(uuid.UUID(o)).payments]
        if not paid:
            return
        order_id = paid[which % len(paid)]
        allowance = self.orders.app.repository.get(uuid.UUID(order_id)).total
        amount = (allowance * share / 100).quantize(Decimal("0.01"))
        decided = CompensationDecided(claim_id=uuid.uuid5(uuid.NAMESPACE_URL, order_id), parcel_id=uuid.uuid4(),
                                      customer_id=customer, order_ids=[order_id], kind="damaged",
                                      approved=amount > 0, amount=amount, currency="CNY", rule="r",
                                      rule_version="claims-test", inputs={}, decided_by="s", notes="")
        self.publish_from("claims", decided, decided.claim_id)

    def publish_from(self, producer: str, payload, aggregate_id: uuid.UUID) -> None:
        """An event of a service not run here (claims, logistics), published and delivered."""
        envelope = Envelope(event_id=uuid.uuid4(), type=payload.event_type, schema_version=payload.schema_version,
                            occurred_at=datetime.now(timezone.utc), producer=producer, aggregate_id=aggregate_id,
                            aggregate_version=2, payload=payload.model_dump(mode="json"))
        self.log.append(envelope)
        self.deliver(envelope)
        self.pump()

    def bill_shipping(self, customer: str, freight: int, fees: int) -> None:
        """Logistics bills a parcel: the line's price and, sometimes, storage fees."""
        parcel_id = uuid.uuid4()
        lines = [BillLineV1(code="shipping", label="line", amount=Decimal(freight))]
        if fees:
            lines.append(BillLineV1(code="storage_fee", label="storage", amount=Decimal(fees),
                                    traceability_code="KF0000000001"))
        billed = ShippingBilled(parcel_id=parcel_id, customer_id=customer, order_ids=[], line_code="line",
                                chargeable_weight_kg=Decimal("1.0"), lines=lines, total=Decimal(freight + fees),
                                currency="CNY", lines_version="test")
        self.parcels_of[customer].append(str(parcel_id))
        self.publish_from("logistics", billed, parcel_id)

    def pay_shipping(self, customer: str, which: int, method: str, declined: bool, replay: bool) -> None:
        if not self.parcels_of[customer]:
            return
        parcel = self.parcels_of[customer][which % len(self.parcels_of[customer])]
        try:
            self.payments.app.pay_bill(self.caller(customer), "shipping", parcel, method,
                                       DECLINED if declined else "pm_card_visa", uuid.uuid4().hex)
        except DomainError:
            pass  # declined, already paid or pending, or the balance is short: nothing changes
        self.webhooks(replay)

    def withdraw(self, customer: str, amount: int) -> None:
        try:
            self.payments.app.withdraw(self.caller(customer), Decimal(amount), uuid.uuid4().hex)
        except DomainError:
            pass  # more than the balance, or more than was ever paid by card
        self.pump()


step = st.one_of(
    st.tuples(st.just("buy"), st.sampled_from(CUSTOMERS), st.integers(1, 400), st.sampled_from(["card", "balance"])),
    st.tuples(st.just("place"), st.sampled_from(CUSTOMERS), st.integers(1, 400)),
    st.tuples(st.just("pay"), st.sampled_from(CUSTOMERS), st.integers(0, 5), st.sampled_from(["card", "balance"]),
              st.booleans(), st.booleans()),
    st.tuples(st.just("top_up"), st.sampled_from(CUSTOMERS), st.integers(1, 600), st.booleans()),
    st.tuples(st.just("qc_refund"), st.sampled_from(CUSTOMERS), st.integers(0, 5)),
    st.tuples(st.just("compensate"), st.sampled_from(CUSTOMERS), st.integers(0, 5), st.integers(0, 100)),
    st.tuples(st.just("withdraw"), st.sampled_from(CUSTOMERS), st.integers(1, 500)),
    st.tuples(st.just("bill_shipping"), st.sampled_from(CUSTOMERS), st.integers(1, 300), st.integers(0, 20)),
    st.tuples(st.just("pay_shipping"), st.sampled_from(CUSTOMERS), st.integers(0, 3),
              st.sampled_from(["card", "balance"]), st.booleans(), st.booleans()),
    st.tuples(st.just("redeliver"), st.sampled_from(["orders.OrderPlaced", "orders.RefundIssued",
                                                      "payments.PaymentSucceeded", "payments.BalanceCredited",
                                                      "claims.CompensationDecided", "logistics.ShippingBilled"]),
              st.booleans()),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_money_is_conserved(stripe, steps):
    with tempfile.TemporaryDirectory() as var_dir:
        platform = Platform(stripe, Path(var_dir))
        charges_before = {i for i in stripe.intents}
        refunds_before = {r for r in stripe.refunds}
        try:
            for name, *args in steps:
                getattr(platform, name)(*args)
                for customer in CUSTOMERS:
                    assert platform.payments.app.balance(customer) >= 0
            check(platform, charges_before, refunds_before)
        finally:
            for parts in (platform.orders, platform.payments):
                parts.app.close()
                if parts.projection_store is not None:
                    parts.projection_store.close()
            platform.ledger_live.close()
            platform.ledger_replayed.close()


def check(platform: Platform, charges_before: set, refunds_before: set) -> None:
    stripe = platform.stripe
    ours = {i["metadata"]["kongfu_payment_id"] for k, i in stripe.intents.items()
            if k not in charges_before and i["status"] == "succeeded"}
    cents = Decimal(100)
    card_in = sum((Decimal(i["amount"]) / cents for k, i in stripe.intents.items()
                   if k not in charges_before and i["status"] == "succeeded"), Decimal(0))
    card_out = sum((Decimal(r["amount"]) / cents for k, r in stripe.refunds.items() if k not in refunds_before),
                   Decimal(0))
    moves = defaultdict(lambda: defaultdict(Decimal))
    payments_per_order: dict[str, list[str]] = defaultdict(list)
    refunds_per_order: dict[str, Decimal] = defaultdict(Decimal)
    paid_per_order: dict[str, Decimal] = defaultdict(Decimal)
    credited_per_order: dict[tuple[str, str], Decimal] = defaultdict(Decimal)  # (order, kind) -> credits
    shipping_paid: dict[str, list[Decimal]] = defaultdict(list)  # parcel -> confirmed payments
    shipping_billed: dict[str, Decimal] = {}
    for envelope in platform.log:
        data = envelope.payload
        if envelope.type in ("payments.BalanceCredited", "payments.BalanceDebited"):
            moves[data["customer_id"]][data["kind"]] += Decimal(data["amount"])
            if envelope.type == "payments.BalanceCredited" and data["order_id"]:
                credited_per_order[(data["order_id"], data["kind"])] += Decimal(data["amount"])
        if envelope.type == "logistics.ShippingBilled":
            shipping_billed[data["parcel_id"]] = Decimal(data["total"])
        if envelope.type == "payments.PaymentSucceeded":
            assert data["payment_id"] in ours or data["method"] == "balance"
            if data.get("purpose") == "shipping":
                shipping_paid[data["reference"]].append(Decimal(data["amount"]))
            if data["method"] == "card":
                moves[data["customer_id"]]["card_" + data["purpose"]] += Decimal(data["amount"])
        if envelope.type == "orders.PaymentRecorded":
            payments_per_order[data["order_id"]].append(data["payment_id"])
            paid_per_order[data["order_id"]] += Decimal(data["amount"])
        if envelope.type == "orders.RefundIssued":
            refunds_per_order[data["order_id"]] += Decimal(data["amount"])

    for customer in CUSTOMERS:
        m = moves[customer]
        balance = platform.payments.app.balance(customer)
        credits = m["top_up"] + m["refund"] + m["compensation"] + m["late_confirmation"] + m["withdrawal_reversed"]
        assert balance == credits - m["order_payment"] - m["shipping_payment"] - m["withdrawal"]
        ledger = LEDGER.view(customer, platform.ledger_live.entries(LEDGER.name, customer))
        assert Decimal(ledger["balance"]) == balance
        assert m["card_top_up"] == m["top_up"]  # every top-up credit is a confirmed card charge, once
    assert card_in == sum((m["card_top_up"] + m["card_order"] + m["card_shipping"] for m in moves.values()), Decimal(0))
    for parcel, amounts in shipping_paid.items():
        assert amounts == [shipping_billed[parcel]], "a shipping bill paid twice, or not for its total"
    assert card_out == sum((m["withdrawal"] for m in moves.values()), Decimal(0)) - \
        sum((m["withdrawal_reversed"] for m in moves.values()), Decimal(0))
    for order_id, payment_ids in payments_per_order.items():
        assert len(payment_ids) == len(set(payment_ids)), "a payment counted twice"
        assert refunds_per_order[order_id] <= paid_per_order[order_id], "refunded more than was paid"
    for customer in CUSTOMERS:
        for order_id in platform.orders_of[customer]:
            assert refunds_per_order[order_id] <= paid_per_order[order_id]
            # What reached the balance for an order: never more than was paid for it (the refund),
            # and never more than the compensation rule's allowance (here: what was paid).
            assert credited_per_order[(order_id, "refund")] <= paid_per_order[order_id], "refund credited twice"
            assert credited_per_order[(order_id, "compensation")] <= paid_per_order[order_id]

    # The ledger rebuilt from the log (each event once, in order) equals the live one.
    for envelope in platform.log:
        payload = parse_payload(envelope.type, envelope.schema_version, envelope.payload)
        platform.ledger_replayed.apply(LEDGER.name, list(LEDGER.entries(envelope, payload)), {})
    assert platform.ledger_replayed.checksum(LEDGER.name) == platform.ledger_live.checksum(LEDGER.name)
