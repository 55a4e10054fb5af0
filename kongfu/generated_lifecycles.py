"""Synthetic lifecycles appended straight to the topics, to measure replay on 100,000+ events.

Each lifecycle is the happy path of one order (placed, paid, cleared, purchased, received,
inspected, stored, packed, shipped, tracked, received by the customer): 19 events across five
topics, every payload valid against its contract and wrapped in a valid envelope, keyed by order
id like the relay publishes them. Nothing is saved in the services' stores: the events exist only
in the log, so point the generator at a namespace no platform is running on (a consumer would
rightly dead-letter reactions to orders it has never seen).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from contracts import Envelope, parse_payload
from service_runtime.eventlog import OutgoingRecord, topic_for
from service_runtime.process import make_event_log
from service_runtime.settings import Settings

BATCH = 5000  # records per publish call: the producer batches them on the wire
EVENTS_PER_LIFECYCLE = 19
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
_NAMESPACE = uuid.UUID("6f0c2d1e-5b7a-4c3e-9a51-2f64e3b0c7d9")


def _id(*parts: Any) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(map(str, parts))))


def _lifecycle(run: str, n: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(producer, event type, payload) of lifecycle n, in causal order."""
    order, payment, task = _id(run, n, "order"), _id(run, n, "payment"), _id(run, n, "task")
    parcel, shipping = _id(run, n, "parcel"), _id(run, n, "shipping")
    customer, code = f"synthetic-{n % 5000}", f"TC{run[:6]}{n:08d}"
    item = {"platform": "taobao", "item_id": f"{600000 + n}", "sku": "blue-L"}
    bought = {"platform": "taobao", "order_id": order, "task_id": task, "line_no": 1, "amount_paid": "129.00",
              "merchant_id": f"m{n % 97}", "merchant_name": "Synthetic Store", "platform_order_no": f"TB{n}",
              "receipt_ref": f"r{n}", "category": "general"}
    tracked = {"parcel_id": parcel, "order_ids": [order], "traceability_codes": [code]}
    events = [
        ("orders", "orders.OrderPlaced", {
            "order_id": order, "customer_id": customer, "destination_country": "DE",
            "lines": [{**item, "line_no": 1, "product_url": f"https://item.taobao.com/item.htm?id={600000 + n}",
                       "quantity": 1, "unit_price": "129.00"}],
            "quote": {"currency": "CNY", "lines": [{"code": "goods", "label": "Goods", "amount": "129.00"}],
                      "total": "129.00", "rules_version": "synthetic"}}),
        ("orders", "orders.PaymentRecorded", {"order_id": order, "payment_id": payment, "amount": "129.00",
                                              "currency": "CNY", "method": "card"}),
        ("fraud", "fraud.OrderCleared", {"order_id": order, "payment_id": payment}),
        ("orders", "orders.OrderConfirmed", {"order_id": order}),
        ("purchasing", "purchasing.PurchaseTaskOpened", {
            **item, "task_id": task, "order_id": order, "customer_id": customer, "line_no": 1,
            "product_url": "https://item.taobao.com/", "quantity": 1, "expected_unit_price": "129.00"}),
        ("purchasing", "purchasing.ItemPurchased", {**bought, "agent_id": "agent-1"}),
        ("purchasing", "purchasing.DomesticShipmentRecorded", {
            **bought, **item, "customer_id": customer, "carrier": "SF", "tracking_number": f"SF{n}", "quantity": 1,
            "agent_id": "agent-1"}),
        ("warehouse", "warehouse.ItemReceived", {
            **bought, **item, "traceability_code": code, "customer_id": customer, "tracking_number": f"SF{n}",
            "quantity_expected": 1, "staff_id": "staff-1"}),
        ("warehouse", "warehouse.ItemInspected", {
            "traceability_code": code, "order_id": order, "customer_id": customer, "line_no": 1,
            "quantity_checked": 1, "exterior_condition": "intact", "photos": [], "passed": True, "issues": [],
            "staff_id": "staff-1"}),
        ("warehouse", "warehouse.ItemStored", {"traceability_code": code, "order_id": order, "location": "A-1",
                                               "staff_id": "staff-1"}),
        ("warehouse", "warehouse.ConsolidationRequested", {
            "parcel_id": parcel, "customer_id": customer, "order_ids": [order], "traceability_codes": [code],
            "destination_country": "DE"}),
        ("warehouse", "warehouse.ParcelPacked", {
            "parcel_id": parcel, "customer_id": customer, "order_ids": [order], "destination_country": "DE",
            "items": [{"traceability_code": code, "order_id": order, "line_no": 1, "sku": "blue-L", "quantity": 1,
                       "category": "general", "value": "129.00"}],
            "weight_kg": "1.2", "length_cm": "30", "width_cm": "20", "height_cm": "10", "materials": ["carton"],
            "cushioning": "bubble", "reinforced": False, "staff_id": "staff-1"}),
        ("logistics", "logistics.ShippingLineChosen", {
            "parcel_id": parcel, "customer_id": customer, "order_ids": [order], "line_code": "EU-AIR",
            "chargeable_weight_kg": "1.2", "amount": "88.00", "currency": "CNY", "payment_id": shipping,
            "method": "card"}),
        ("logistics", "logistics.CustomsDeclared", {
            "parcel_id": parcel, "order_ids": [order], "destination_country": "DE", "staff_id": "staff-1",
            "items": [{"traceability_code": code, "hs_code": "6109", "description": "T-shirt",
                       "declared_value": "129.00", "currency": "CNY"}]}),
        ("logistics", "logistics.ParcelShipped", {**tracked, "line_code": "EU-AIR", "carrier": "DHL",
                                                  "tracking_number": f"DHL{n}", "staff_id": "staff-1"}),
    ]
    for step, status in enumerate(("in_transit", "customs_cleared", "out_for_delivery")):
        events.append(("logistics", "logistics.TrackingUpdated", {
            **tracked, "status": status, "carrier": "DHL", "carrier_event_id": f"{n}-{step}", "location": "Leipzig",
            "carrier_time": (_EPOCH + timedelta(minutes=n, seconds=step)).isoformat()}))
    events.append(("logistics", "logistics.ReceiptConfirmed", {**tracked, "customer_id": customer}))
    return events


def lifecycle_records(n: int, namespace: str = "", run: str = "") -> Iterator[OutgoingRecord]:
    """The records of lifecycle n (validated against the contracts, like the relay's)."""
    run = run or "synthetic"
    versions: dict[str, int] = {}
    for step, (producer, event_type, payload) in enumerate(_lifecycle(run, n)):
        parse_payload(event_type, 1, payload)  # valid as v1 (readers lift it to a newer version)
        aggregate = payload.get("parcel_id") or payload.get("traceability_code") or payload.get("task_id") \
            or payload["order_id"]
        aggregate_id = aggregate if "-" in str(aggregate) else _id(run, aggregate)
        versions[aggregate_id] = versions.get(aggregate_id, 0) + 1
        order_id = payload.get("order_id") or payload["order_ids"][0]
        envelope = Envelope(
            event_id=_id(run, n, step), type=event_type, schema_version=1,
            occurred_at=_EPOCH + timedelta(minutes=n, seconds=step), producer=producer,
            aggregate_id=aggregate_id, aggregate_version=versions[aggregate_id], order_id=order_id,
            correlation_id=str(order_id), actor=f"system:{producer}", payload=payload)
        headers = (("event_id", str(envelope.event_id).encode()), ("type", event_type.encode()),
                   ("schema_version", b"1"))
        yield OutgoingRecord(topic_for(producer, namespace), str(order_id).encode(),
                             envelope.model_dump_json().encode(), headers)


async def append_lifecycles_async(settings: Settings, n: int, run: str = "") -> int:
    """Append n lifecycles to the topics of `settings` (Kafka or the embedded log); returns the
    number of events appended."""
    run = run or uuid.uuid4().hex[:12]  # a fresh run never repeats event ids of an earlier one
    event_log = make_event_log(settings, client_id="kongfu-synthetic")
    await event_log.start()
    appended = 0
    try:
        batch: list[OutgoingRecord] = []
        for i in range(n):
            batch += lifecycle_records(i, settings.namespace, run)
            if len(batch) >= BATCH:
                await event_log.publish(batch)
                appended += len(batch)
                batch = []
        if batch:
            await event_log.publish(batch)
            appended += len(batch)
    finally:
        await event_log.stop()
    return appended


def append_lifecycles(settings: Settings, n: int) -> int:
    """Append n synthetic but contract-valid lifecycles (19 events each) to the topics; returns
    the number of events appended."""
    return asyncio.run(append_lifecycles_async(settings, n))


def main() -> None:  # python -m kongfu.generated_lifecycles N
    import sys

    count = append_lifecycles(Settings(), int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
    print(json.dumps({"events": count}))


if __name__ == "__main__":
    main()
