"""Orders application: place an order from marketplace links, pay it, follow fraud's decision."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, TypeVar
from uuid import UUID


from contracts.fraud import OrderCleared, OrderFlagged, ReviewCancelled, ReviewReleased
from contracts.payments import PaymentFailed
from contracts.payments import PaymentSucceededV2 as PaymentSucceeded
from contracts.purchasing import OutOfStockReported, PriceChangeRequested
from contracts.warehouse import COUNTERFEIT, ItemInspected
from service_runtime.auth import AUDITOR, PURCHASING_AGENT, RISK_ANALYST, SUPPORT_AGENT, Caller
from service_runtime.errors import NotFound
from service_runtime.requests import fingerprint
from service_runtime.tracing import stable_id
from services.orders.domain import Order
from services.orders.governance import Governance
from services.orders.privacy import Privacy
from services.orders.marketplace import parse_product_link
from services.orders.pricing import PricedLine, line_refund, quote

STAFF_WHO_READ_ORDERS = (SUPPORT_AGENT, RISK_ANALYST, AUDITOR, PURCHASING_AGENT)
T = TypeVar("T")


class OrdersApplication(Governance, Privacy):
    name = "orders"

    def place_order(self, customer_id: str, destination_country: str, items: list[dict],
                    idempotency_key: str | None = None) -> Order:
        """A new order; with an Idempotency-Key, a retry of the same request gets the same order."""
        if idempotency_key is None:
            order = self._new_order(customer_id, destination_country, items)
            self.save(order)
            return order
        order_id = stable_id("order", customer_id, idempotency_key)
        request = fingerprint({"destination_country": destination_country, "items": items})

        def create() -> tuple[list[Order], Order]:
            order = self._new_order(customer_id, destination_country, items, order_id, request)
            return [order], order

        return self.create_once(order_id, Order, request, create)

    def _new_order(self, customer_id: str, destination_country: str, items: list[dict], order_id: UUID | None = None,
                   request_fingerprint: str | None = None) -> Order:
        lines, priced = [], []
        for number, item in enumerate(items, start=1):
            product = parse_product_link(item["product_url"])
            lines.append({
                "line_no": number, "platform": product.platform, "item_id": product.item_id,
                "product_url": item["product_url"], "sku": item["sku"], "quantity": item["quantity"],
                "unit_price": Decimal(item["unit_price"]),
            })
            priced.append(PricedLine(item["quantity"], Decimal(item["unit_price"])))
        held = self.refuse_unacceptable_lines([{**line, "title": item.get("title")}
                                               for line, item in zip(lines, items)], destination_country)
        order = Order.place(order_id, customer_id=customer_id, destination_country=destination_country, lines=lines,
                            quote=quote(priced, destination_country), request_fingerprint=request_fingerprint)
        self.hold_for_review(order, held)
        return order

    def order_for(self, caller: Caller, order_id: UUID) -> Order:
        """The order, if the caller may see it; otherwise the same 404 as a missing order."""
        order = self.find(order_id, Order)
        if order is None or not caller.can_read_customer_data(order.customer_id, *STAFF_WHO_READ_ORDERS):
            raise NotFound(f"order {order_id} not found")
        return order

    def own_order(self, caller: Caller, order_id: UUID) -> Order:
        """The order, if the caller is the customer who placed it (staff cannot act for them)."""
        order = self.order_for(caller, order_id)
        if caller.subject != order.customer_id:
            raise NotFound(f"order {order_id} not found")
        return order

    def change_order(self, caller: Caller, order_id: UUID, change: Callable[[Order], T]) -> T:
        """Change the caller's order and save it, again on fresh state if another request won."""

        def attempt() -> tuple[list[Order], T]:
            order = self.own_order(caller, order_id)
            return [order], change(order)

        return self.save_with_retry(attempt)

    def decide(self, caller: Caller, order_id: UUID, line_no: int, choice: str) -> Order:
        """The customer's answer to a question about one line (new price, out of stock, failed QC)."""

        def answer(order: Order) -> Order:
            question = order.question_for(line_no, choice)
            details = question["details"]
            if choice == "accept_new_price":
                self._accept_new_price(order, line_no, details)
            elif choice == "cancel":
                self.cancel_with_refund(order, line_no, f"cancelled by the customer after {question['kind']}")
            else:
                order.resolve_qc(line_no=line_no, traceability_code=details["traceability_code"], choice=choice)
                if choice in ("refund", "return_to_merchant"):
                    self.cancel_with_refund(order, line_no, f"{choice.replace('_', ' ')} after failed inspection")
            return order

        return self.change_order(caller, order_id, answer)

    @staticmethod
    def _accept_new_price(order: Order, line_no: int, details: dict) -> None:
        new_price = Decimal(details["new_unit_price"])
        difference = (new_price - Decimal(details["old_unit_price"])) * int(details["quantity"])
        if difference > 0:  # paid at payments first; the purchase proceeds once it is confirmed
            order.bill_difference(line_no, details, difference)
            return
        order.accept_price(line_no=line_no, new_unit_price=new_price, price_difference=difference, payment=None)
        if difference < 0:
            order.refund(refund_id=stable_id("refund", order.id, len(order.refunds)), amount=-difference,
                         currency="CNY", reason="the merchant's new price is lower", line_no=line_no)

    @staticmethod
    def cancel_with_refund(order: Order, line_no: int, reason: str) -> None:
        order.cancel_line(line_no=line_no, reason=reason)
        # The line's share of what the order costs now (a lower price already refunded its part).
        amount = min(line_refund(order.goods_total, order.lines, line_no), order.refundable)
        order.refund(refund_id=stable_id("refund", order.id, len(order.refunds)), amount=amount, currency="CNY",
                     reason=reason, line_no=line_no)

    # Reactions to purchasing and the warehouse: questions for the customer ----------------

    def on_price_change_requested(self, payload: PriceChangeRequested, _envelope: Any) -> list[Order]:
        order = self.repository.get(payload.order_id)
        order.ask_customer(payload.line_no, "price_change", {
            "task_id": str(payload.task_id), "quantity": payload.quantity,
            "old_unit_price": str(payload.old_unit_price), "new_unit_price": str(payload.new_unit_price)})
        return [order]

    def on_out_of_stock(self, payload: OutOfStockReported, _envelope: Any) -> list[Order]:
        order = self.repository.get(payload.order_id)
        order.ask_customer(payload.line_no, "out_of_stock", {"task_id": str(payload.task_id)})
        return [order]

    def on_item_inspected(self, payload: ItemInspected, _envelope: Any) -> list[Order]:
        if payload.passed or COUNTERFEIT in payload.issues:
            return []  # a counterfeit is refunded in full from claims' CounterfeitConfirmed, not by a choice
        order = self.repository.get(payload.order_id)
        order.ask_customer(payload.line_no, "qc_failed", {
            "traceability_code": payload.traceability_code, "photos": list(payload.photos),
            "issues": list(payload.issues)})
        return [order]

    # Reactions to payments: only a confirmed payment counts --------------------------------

    def on_payment_succeeded(self, payload: PaymentSucceeded, _envelope: Any) -> list[Order]:
        if payload.purpose == "price_difference" and payload.order_id is not None:
            order = self.repository.get(payload.order_id)
            line_no = int(payload.reference.rsplit("/", 1)[1])  # "<order id>/lines/<line no>"
            settled = order.settle_difference(line_no, payload.payment_id, payload.amount, payload.method,
                                              payload.provider)
            return [order] if settled else []
        if payload.purpose != "order" or payload.order_id is None:
            return []
        order = self.repository.get(payload.order_id)
        recorded = order.record_payment(payload.payment_id, payload.amount, payload.method, payload.provider)
        return [order] if recorded else []

    def on_payment_failed(self, payload: PaymentFailed, _envelope: Any) -> list[Order]:
        if payload.purpose != "order" or payload.order_id is None:
            return []
        order = self.repository.get(payload.order_id)
        order.note_failed_payment(payload.payment_id, payload.reason)
        return [order]

    # Reactions to fraud's decisions -------------------------------------------------------

    def on_order_cleared(self, payload: OrderCleared, _envelope: Any) -> list[Order]:
        order = self.repository.get(payload.order_id)
        order.apply_clearance()
        return [order]

    def on_review_released(self, payload: ReviewReleased, _envelope: Any) -> list[Order]:
        order = self.repository.get(payload.order_id)
        order.release(refund_id=stable_id("review-refund", order.id))
        return [order]

    def on_review_cancelled(self, payload: ReviewCancelled, _envelope: Any) -> list[Order]:
        order = self.repository.get(payload.order_id)
        order.cancel_after_review(f"cancelled after payment review: {payload.reason}",
                                  refund_id=stable_id("review-refund", order.id))
        return [order]

    def on_order_flagged(self, payload: OrderFlagged, _envelope: Any) -> list[Order]:
        order = self.repository.get(payload.order_id)
        order.apply_flag(list(payload.reasons))
        return [order]
