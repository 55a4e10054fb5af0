"""The money conservation property's platform: the orders and payments applications on throwaway
stores, with an in-memory topic between them, and what customers, staff and other services do."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from eventsourcing.persistence import Tracking

from contracts import Envelope, parse_payload
from contracts.claims import CompensationDecided
from contracts.fraud import OrderFlagged, ReviewCancelled, ReviewReleased
from contracts.logistics import BillLineV1, ShippingBilled
from contracts.purchasing import PriceChangeRequested
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
ITEM = "https://item.taobao.com/item.htm?id=1234567"


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

    def close(self) -> None:
        for parts in (self.orders, self.payments):
            parts.app.close()
            if parts.projection_store is not None:
                parts.projection_store.close()
        self.ledger_live.close()
        self.ledger_replayed.close()

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
        self.pay_bill(customer, "shipping", parcel, method, declined, replay)

    def pay_bill(self, customer: str, purpose: str, reference: str, method: str, declined: bool,
                 replay: bool) -> None:
        try:
            self.payments.app.pay_bill(self.caller(customer), purpose, reference, method,
                                       DECLINED if declined else "pm_card_visa", uuid.uuid4().hex)
        except DomainError:
            pass  # declined, already paid or pending, or the balance is short: nothing changes
        self.webhooks(replay)

    def paid_order(self, customer: str, which: int):
        paid = [o for o in self.orders_of[customer] if self.orders.app.repository.get(uuid.UUID(o)).payments]
        return self.orders.app.repository.get(uuid.UUID(paid[which % len(paid)])) if paid else None

    def price_change(self, customer: str, which: int, new_price: int, answer: str) -> None:
        """The merchant asks another price for line 1; the customer accepts it or cancels the line."""
        order = self.paid_order(customer, which)
        if order is None or 1 in order.cancelled_lines or order.pending:
            return
        line = order.line(1)
        asked = PriceChangeRequested(task_id=uuid.uuid4(), order_id=order.id, line_no=1, quantity=line["quantity"],
                                     old_unit_price=Decimal(line["unit_price"]),
                                     new_unit_price=Decimal(new_price), agent_id="agent")
        try:
            self.publish_from("purchasing", asked, asked.task_id)
            self.orders.app.decide(self.caller(customer), order.id, 1, answer)
        except DomainError:
            pass  # the order cannot take the question now (on hold, cancelled): nothing changes
        self.pump()

    def pay_difference(self, customer: str, which: int, method: str, declined: bool, replay: bool) -> None:
        billed = [e.payload["order_id"] for e in self.log
                  if e.type == "orders.PriceDifferenceBilled" and e.payload["customer_id"] == customer]
        if not billed:
            return
        self.pay_bill(customer, "price_difference", f"{billed[which % len(billed)]}/lines/1", method, declined, replay)

    def review(self, customer: str, which: int, decision: str) -> None:
        """Fraud holds a paid order; an analyst releases it or cancels it with a refund."""
        order = self.paid_order(customer, which)
        if order is None:
            return
        payment_id = uuid.UUID(str(order.payments[-1]["payment_id"]))
        try:
            self.publish_from("fraud", OrderFlagged(order_id=order.id, payment_id=payment_id,
                                                    reasons=["duplicate payment"]), order.id)
        except DomainError:
            return
        kind = ReviewReleased if decision == "release" else ReviewCancelled
        self.publish_from("fraud", kind(order_id=order.id, analyst="analyst", reason="reviewed",
                                        rules_version="fraud-test"), order.id)

    def withdraw(self, customer: str, amount: int) -> None:
        try:
            self.payments.app.withdraw(self.caller(customer), Decimal(amount), uuid.uuid4().hex)
        except DomainError:
            pass  # more than the balance, or more than was ever paid by card
        self.pump()
