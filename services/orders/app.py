"""Orders application: place an order from marketplace links, pay it, follow fraud's decision."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from contracts.fraud import OrderCleared, OrderFlagged
from service_runtime.auth import AUDITOR, PURCHASING_AGENT, RISK_ANALYST, SUPPORT_AGENT, Caller
from service_runtime.errors import NotFound
from service_runtime.store import ServiceApplication
from service_runtime.tracing import stable_id
from services.orders.domain import Order
from services.orders.marketplace import parse_product_link
from services.orders.pricing import PricedLine, quote

STAFF_WHO_READ_ORDERS = (SUPPORT_AGENT, RISK_ANALYST, AUDITOR, PURCHASING_AGENT)
SAVE_ATTEMPTS = 5


class OrdersApplication(ServiceApplication):
    name = "orders"

    def place_order(self, customer_id: str, destination_country: str, items: list[dict]) -> Order:
        lines, priced = [], []
        for number, item in enumerate(items, start=1):
            product = parse_product_link(item["product_url"])
            lines.append({
                "line_no": number, "platform": product.platform, "item_id": product.item_id,
                "product_url": item["product_url"], "sku": item["sku"], "quantity": item["quantity"],
                "unit_price": Decimal(item["unit_price"]),
            })
            priced.append(PricedLine(item["quantity"], Decimal(item["unit_price"])))
        order = Order(customer_id=customer_id, destination_country=destination_country, lines=lines,
                      quote=quote(priced, destination_country))
        self.save(order)
        return order

    def order_for(self, caller: Caller, order_id: UUID) -> Order:
        """The order, if the caller may see it; otherwise the same 404 as a missing order."""
        try:
            order = self.repository.get(order_id)
        except AggregateNotFoundError:
            order = None
        if order is None or not caller.can_read_customer_data(order.customer_id, *STAFF_WHO_READ_ORDERS):
            raise NotFound(f"order {order_id} not found")
        return order

    def pay(self, caller: Caller, order_id: UUID, idempotency_key: str, request: dict[str, Any]) -> dict:
        fingerprint = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
        for attempt in range(SAVE_ATTEMPTS):
            order = self.order_for(caller, order_id)
            if caller.subject != order.customer_id:
                raise NotFound(f"order {order_id} not found")  # only the customer pays their order
            payment = order.pay(
                payment_id=stable_id("payment", order_id, idempotency_key),
                amount=Decimal(request["amount"]), method=request["method"],
                provider_reference=request["provider_reference"],
                idempotency_key=idempotency_key, fingerprint=fingerprint,
            )
            try:
                self.save(order)
                return payment
            except IntegrityError:
                # Another request changed the order (maybe the same key, in a race): look again.
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    # Reactions to fraud's decisions -------------------------------------------------------

    def on_order_cleared(self, payload: OrderCleared, _envelope: Any) -> list[Order]:
        order = self.repository.get(payload.order_id)
        order.apply_clearance()
        return [order]

    def on_order_flagged(self, payload: OrderFlagged, _envelope: Any) -> list[Order]:
        order = self.repository.get(payload.order_id)
        order.apply_flag(list(payload.reasons))
        return [order]
