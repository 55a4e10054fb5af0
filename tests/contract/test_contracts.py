"""Contracts: checked-in schemas are frozen per version; payloads survive the real serializer."""

from decimal import Decimal
from uuid import uuid4

import pytest

from contracts import ContractError, EventPayload, parse_payload
from contracts import registry, schemas
from contracts.envelope import Envelope
from service_runtime.consumer import Rejected, decode
from service_runtime.eventlog import LogRecord
from service_runtime.publishing import Publication
from service_runtime.tracing import trace
from services.orders.bootstrap import PUBLISHES
from services.orders.domain import Order


def test_checked_in_schemas_match_the_models():
    assert schemas.check() == []


def test_changing_a_published_model_is_caught(monkeypatch):
    model = registry.current_model("orders.OrderHeld")

    class ChangedOrderHeld(EventPayload):
        event_type = "orders.OrderHeld"
        schema_version = model.schema_version
        order_id: str
        reasons: list[str]
        severity: int  # a new required field breaks every reader of v1

    monkeypatch.setitem(registry._models, ("orders.OrderHeld", model.schema_version), ChangedOrderHeld)
    problems = schemas.check()
    assert any("orders.OrderHeld v1" in p and "frozen" in p for p in problems)


def test_a_new_version_needs_an_upcaster(monkeypatch, tmp_path):
    monkeypatch.setattr(schemas, "SCHEMA_DIR", tmp_path)
    for (event_type, version), model in registry.all_contracts().items():
        schemas.schema_path(event_type, version).write_text(schemas.render(model))

    class OrderHeldV2(EventPayload):
        event_type = "orders.OrderHeld"
        schema_version = 2
        order_id: str
        reasons: list[str]
        held_by: str

    monkeypatch.setitem(registry._models, ("orders.OrderHeld", 2), OrderHeldV2)
    schemas.schema_path("orders.OrderHeld", 2).write_text(schemas.render(OrderHeldV2))
    assert any("no upcaster from v1" in p for p in schemas.check())

    monkeypatch.setitem(registry._upcasters, ("orders.OrderHeld", 1), lambda d: {**d, "held_by": "fraud"})
    assert schemas.check() == []
    lifted = parse_payload("orders.OrderHeld", 1, {"order_id": str(uuid4()), "reasons": ["x"]})
    assert isinstance(lifted, OrderHeldV2) and lifted.held_by == "fraud"


def test_every_order_event_round_trips_through_the_serializer():
    publication = Publication("orders", PUBLISHES)
    quote = {"currency": "CNY", "lines": [{"code": "items", "label": "Items", "amount": Decimal("10.00")}],
             "total": Decimal("10.00"), "rules_version": "t"}
    line = {"line_no": 1, "platform": "jd", "item_id": "1", "product_url": "https://item.jd.com/1.html",
            "sku": "s", "quantity": 1, "unit_price": Decimal("10.00")}
    with trace(correlation_id="c-1"):
        order = Order(customer_id="alice", destination_country="GB", lines=[line], quote=quote)
        order.record_payment(uuid4(), Decimal("10.00"), "card", "stripe")
        order.apply_clearance()
        order.apply_flag(["duplicate payment"])
        order.ask_customer(1, "price_change", {"old_unit_price": "10.00", "new_unit_price": "12.00"})
        order.bill_difference(1, {"task_id": str(uuid4()), "quantity": 1, "old_unit_price": "10.00",
                                  "new_unit_price": "12.00"}, Decimal("2.00"))
        order.settle_difference(1, uuid4(), Decimal("2.00"), "card", "stripe")
        order.resolve_qc(line_no=1, traceability_code="KF0000000000A", choice="refund")
        order.cancel_line(line_no=1, reason="refund after failed inspection")
        order.refund(refund_id=uuid4(), amount=Decimal("12.00"), currency="CNY", reason="r", line_no=1)
    seen = set()
    for domain_event in order.collect_events():
        envelope = publication.envelope(domain_event)
        if envelope is None:  # kept inside the service on purpose
            assert type(domain_event).__name__ == "CustomerDecisionRequested"
            continue
        record = publication.record(envelope)
        decoded, payload = decode(LogRecord(record.topic, 0, 0, record.key, record.value, record.headers))
        assert decoded == envelope
        assert payload.model_dump(mode="json") == envelope.payload
        assert decoded.order_id == order.id and decoded.correlation_id == "c-1"
        assert record.key == str(order.id).encode()
        seen.add(decoded.type)
    assert seen == {m.event_type for e, m in PUBLISHES.items() if e.__qualname__.startswith("Order.")}


def test_event_id_is_stable_for_the_same_aggregate_version():
    publication = Publication("orders", PUBLISHES)
    quote = {"currency": "CNY", "lines": [], "total": Decimal("1.00"), "rules_version": "t"}
    order = Order(customer_id="a", destination_country="GB", lines=[], quote=quote)
    (placed,) = order.collect_events()
    assert publication.envelope(placed).event_id == publication.envelope(placed).event_id


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"not json at all", "envelope invalid"),
        (b'{"event_id": "x"}', "envelope invalid"),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(value, reason):
    with pytest.raises(Rejected, match=reason):
        decode(LogRecord("t", 0, 0, None, value, ()))


def test_payload_that_breaks_its_contract_is_rejected():
    envelope = Envelope(event_id=uuid4(), type="orders.OrderHeld", schema_version=1,
                        occurred_at="2026-01-01T00:00:00Z", producer="orders", aggregate_id=uuid4(),
                        aggregate_version=1, payload={"order_id": "not-a-uuid", "reasons": "x"})
    with pytest.raises(Rejected, match="orders.OrderHeld v1 payload invalid"):
        decode(LogRecord("t", 0, 0, None, envelope.model_dump_json().encode(), ()))


def test_unknown_type_is_a_contract_error():
    with pytest.raises(ContractError, match="unknown event type"):
        parse_payload("orders.Nope", 1, {})
