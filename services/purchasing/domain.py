"""Purchasing aggregates: what purchasing knows of an order, and one purchase task per line and attempt.

A task is bought on the marketplace by an agent, may wait for the customer (new price, out of
stock), and ends shipped to our warehouse or cancelled. A failed inspection the customer wants
repurchased opens the next attempt for the same line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import get_args
from uuid import UUID

from eventsourcing.domain import event

from contracts.common import Category
from service_runtime.errors import Conflict, DomainError
from service_runtime.tracing import TracedAggregate, stable_id
from services.purchasing import lifecycle
from services.purchasing.lifecycle import CANCELLED, OPEN, UNFINISHED

CATEGORIES = get_args(Category)
FIRST_ATTEMPT = 1
SCREENING_HOLD = "under compliance review"


def purchasing_order_id(order_id: UUID) -> UUID:
    return stable_id("purchasing-order", order_id)


def task_id_for(order_id: UUID, line_no: int, attempt: int) -> UUID:
    return stable_id("purchase-task", order_id, line_no, attempt)


class PurchasingOrder(TracedAggregate):
    """The order as purchasing needs it: its customer, its lines, which attempt each line is on."""

    @staticmethod
    def create_id(order_id: UUID) -> UUID:
        return purchasing_order_id(order_id)

    @event("Placed")
    def __init__(self, order_id: UUID, customer_id: str, lines: list) -> None:
        self.order_id = order_id
        self.customer_id = customer_id
        self.lines = [dict(line) for line in lines]
        self.confirmed = False
        self.hold_reasons: list[str] = []
        self.attempts: dict[int, int] = {}  # line_no -> its latest attempt
        self.repurchased_for: list[str] = []  # traceability codes whose failure started an attempt

    def line(self, line_no: int) -> dict:
        for line in self.lines:
            if line["line_no"] == line_no:
                return line
        raise DomainError(f"order {self.order_id} has no line {line_no}")

    def task_ids(self) -> list[UUID]:
        return [task_id_for(self.order_id, line_no, attempt)
                for line_no, latest in sorted(self.attempts.items()) for attempt in range(1, latest + 1)]

    def current_task_id(self, line_no: int) -> UUID | None:
        self.line(line_no)
        attempt = self.attempts.get(line_no)
        return task_id_for(self.order_id, line_no, attempt) if attempt else None

    def confirm(self) -> bool:
        """Start the first attempt of every line; False if that happened already."""
        if self.confirmed:
            return False
        self._confirm()
        return True

    @event("Confirmed")
    def _confirm(self) -> None:
        self.confirmed = True
        self.attempts = {line["line_no"]: FIRST_ATTEMPT for line in self.lines}

    def hold(self, reasons: list[str]) -> None:
        if list(reasons) != self.hold_reasons:
            self._hold(list(reasons))

    @event("Held")
    def _hold(self, reasons: list) -> None:
        self.hold_reasons = list(reasons)

    # Lines held at screening for a compliance analyst: not bought until approved.

    @property
    def lines_in_review(self) -> dict[int, str]:
        return getattr(self, "_lines_in_review", {})

    def hold_line_for_review(self, line_no: int, reason: str) -> bool:
        if line_no in self.lines_in_review:
            return False
        self._line_held_for_review(line_no, f"{SCREENING_HOLD}: {reason}")
        return True

    @event("LineHeldForReview")
    def _line_held_for_review(self, line_no: int, reason: str) -> None:
        self._lines_in_review = {**self.lines_in_review, line_no: reason}

    def release_line_from_review(self, line_no: int) -> bool:
        if line_no not in self.lines_in_review:
            return False
        self._line_released_from_review(line_no)
        return True

    @event("LineReleasedFromReview")
    def _line_released_from_review(self, line_no: int) -> None:
        self._lines_in_review = {n: r for n, r in self.lines_in_review.items() if n != line_no}

    def hold_reasons_for(self, line_no: int) -> list[str]:
        """Why a line's task may not be bought now: the order's payment review, the line's screening."""
        in_review = self.lines_in_review.get(line_no)
        return [*self.hold_reasons, *([in_review] if in_review else [])]

    def start_repurchase(self, line_no: int, traceability_code: str) -> int | None:
        """The next attempt for a line whose item failed inspection; None if this failure already has one."""
        self.line(line_no)
        if traceability_code in self.repurchased_for:
            return None
        if not self.confirmed:
            raise Conflict(f"order {self.order_id} was never confirmed; there is nothing to repurchase")
        attempt = self.attempts.get(line_no, 0) + 1
        self._start_repurchase(line_no, traceability_code, attempt)
        return attempt

    @event("RepurchaseStarted")
    def _start_repurchase(self, line_no: int, traceability_code: str, attempt: int) -> None:
        self.repurchased_for.append(traceability_code)
        self.attempts[line_no] = attempt


class PurchaseTask(TracedAggregate):
    """Buying one order line once. Event parameters are named like the contract fields they publish."""

    @staticmethod
    def create_id(task_id: UUID) -> UUID:
        return task_id

    @classmethod
    def open(cls, order: PurchasingOrder, line_no: int, attempt: int,
             expected_unit_price: Decimal | None = None) -> "PurchaseTask":
        line = order.line(line_no)
        return cls(task_id=task_id_for(order.order_id, line_no, attempt), order_id=order.order_id,
                   customer_id=order.customer_id, line_no=line_no, attempt=attempt, platform=line["platform"],
                   item_id=line["item_id"], product_url=line["product_url"], sku=line["sku"],
                   quantity=line["quantity"],
                   expected_unit_price=line["unit_price"] if expected_unit_price is None else expected_unit_price)

    @event("Opened")
    def __init__(self, task_id: UUID, order_id: UUID, customer_id: str, line_no: int, attempt: int, platform: str,
                 item_id: str, product_url: str, sku: str, quantity: int, expected_unit_price: Decimal) -> None:
        self.order_id = order_id
        self.customer_id = customer_id
        self.line_no, self.attempt = line_no, attempt
        self.platform, self.item_id, self.product_url, self.sku = platform, item_id, product_url, sku
        self.quantity = quantity
        self.expected_unit_price = expected_unit_price
        self.status = OPEN
        self.hold_reasons: list[str] = []
        self.awaiting: dict | None = None  # the question the customer was asked
        self.purchase: dict | None = None
        self.shipment: dict | None = None
        self.cancel_reason: str | None = None

    @property
    def on_hold(self) -> bool:
        return bool(self.hold_reasons)

    @property
    def unfinished(self) -> bool:
        return self.status in UNFINISHED

    # The agent's steps --------------------------------------------------------------------

    def buy(self, platform_order_no: str, amount_paid: Decimal, merchant_id: str, merchant_name: str,
            receipt_ref: str, category: str, agent_id: str) -> None:
        in_review = [r for r in self.hold_reasons if r.startswith(SCREENING_HOLD)]
        if in_review and self.status == OPEN:
            raise Conflict(f"cannot purchase: the line is {in_review[0]}; wait for the analyst's decision")
        lifecycle.next_status(self.status, "purchase", on_hold=self.on_hold)
        if amount_paid <= 0:
            raise DomainError("amount_paid must be more than 0 CNY")
        if not receipt_ref.strip():
            raise DomainError("every purchase keeps the marketplace receipt: receipt_ref is required")
        if category not in CATEGORIES:
            raise DomainError(f"category must be one of {', '.join(CATEGORIES)}")
        self._purchased(task_id=self.id, line_no=self.line_no, platform=self.platform,
                        platform_order_no=platform_order_no, amount_paid=amount_paid, merchant_id=merchant_id,
                        merchant_name=merchant_name, receipt_ref=receipt_ref.strip(), category=category,
                        agent_id=agent_id)

    @event("Purchased")
    def _purchased(self, task_id: UUID, line_no: int, platform: str, platform_order_no: str, amount_paid: Decimal,
                   merchant_id: str, merchant_name: str, receipt_ref: str, category: str, agent_id: str) -> None:
        self.status = lifecycle.after("purchase")
        self.purchase = {"platform_order_no": platform_order_no, "amount_paid": amount_paid,
                         "merchant_id": merchant_id, "merchant_name": merchant_name, "receipt_ref": receipt_ref,
                         "category": category, "purchased_by": agent_id}

    def request_price_change(self, new_unit_price: Decimal, agent_id: str) -> None:
        lifecycle.next_status(self.status, "request_price_change")
        if new_unit_price <= 0:
            raise DomainError("new_unit_price must be more than 0 CNY")
        if new_unit_price == self.expected_unit_price:
            raise DomainError(f"the new unit price {new_unit_price} CNY is the current expected price; "
                              "there is no change to ask the customer about")
        self._price_change_requested(task_id=self.id, line_no=self.line_no, quantity=self.quantity,
                                     old_unit_price=self.expected_unit_price, new_unit_price=new_unit_price,
                                     agent_id=agent_id)

    @event("PriceChangeRequested")
    def _price_change_requested(self, task_id: UUID, line_no: int, quantity: int, old_unit_price: Decimal,
                                new_unit_price: Decimal, agent_id: str) -> None:
        self.status = lifecycle.after("request_price_change")
        self.awaiting = {"kind": "price_change", "new_unit_price": new_unit_price}

    def report_out_of_stock(self, agent_id: str) -> None:
        lifecycle.next_status(self.status, "report_out_of_stock")
        self._out_of_stock_reported(task_id=self.id, line_no=self.line_no, agent_id=agent_id)

    @event("OutOfStockReported")
    def _out_of_stock_reported(self, task_id: UUID, line_no: int, agent_id: str) -> None:
        self.status = lifecycle.after("report_out_of_stock")
        self.awaiting = {"kind": "out_of_stock"}

    def record_domestic_shipment(self, carrier: str, tracking_number: str, agent_id: str) -> None:
        lifecycle.next_status(self.status, "record_domestic_shipment")
        purchase = self.purchase
        self._domestic_shipment_recorded(
            task_id=self.id, customer_id=self.customer_id, line_no=self.line_no, carrier=carrier.strip(),
            tracking_number=tracking_number.strip(), platform=self.platform, item_id=self.item_id, sku=self.sku,
            quantity=self.quantity, category=purchase["category"], amount_paid=purchase["amount_paid"],
            merchant_id=purchase["merchant_id"], merchant_name=purchase["merchant_name"],
            platform_order_no=purchase["platform_order_no"], receipt_ref=purchase["receipt_ref"], agent_id=agent_id)

    @event("DomesticShipmentRecorded")
    def _domestic_shipment_recorded(self, task_id: UUID, customer_id: str, line_no: int, carrier: str,
                                    tracking_number: str, platform: str, item_id: str, sku: str, quantity: int,
                                    category: str, amount_paid: Decimal, merchant_id: str, merchant_name: str,
                                    platform_order_no: str, receipt_ref: str, agent_id: str) -> None:
        self.status = lifecycle.after("record_domestic_shipment")
        self.shipment = {"carrier": carrier, "tracking_number": tracking_number, "recorded_by": agent_id}

    # What the order tells us --------------------------------------------------------------

    def reopen_at(self, new_unit_price: Decimal) -> None:
        """The customer accepted the new price: buy again at it. Already open at that price: nothing."""
        if self.status == OPEN and self.expected_unit_price == new_unit_price:
            return
        lifecycle.next_status(self.status, "reopen_at_new_price")
        if (self.awaiting or {}).get("kind") != "price_change":
            raise Conflict(f"task {self.id} is waiting for the customer about {self.awaiting['kind']}, "
                           "not about a new price")
        self._reopened_at_new_price(new_unit_price)

    @event("ReopenedAtNewPrice")
    def _reopened_at_new_price(self, new_unit_price: Decimal) -> None:
        self.status = lifecycle.after("reopen_at_new_price")
        self.expected_unit_price = new_unit_price
        self.awaiting = None

    def hold(self, reasons: list[str]) -> None:
        """The order is under payment review, or the line under compliance review: stop before
        buying (an empty list releases it). Bought items go on."""
        if self.unfinished and list(reasons) != self.hold_reasons:
            self._held(list(reasons))

    @event("Held")
    def _held(self, reasons: list) -> None:
        self.hold_reasons = list(reasons)

    def cancel(self, reason: str) -> None:
        if self.status == CANCELLED:
            return
        lifecycle.next_status(self.status, "cancel")
        self._cancelled(task_id=self.id, line_no=self.line_no, reason=reason)

    @event("Cancelled")
    def _cancelled(self, task_id: UUID, line_no: int, reason: str) -> None:
        self.status = lifecycle.after("cancel")
        self.awaiting = None
        self.cancel_reason = reason

