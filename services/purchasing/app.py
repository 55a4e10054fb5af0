"""Purchasing application: open a task per confirmed order line, let agents buy and ship, follow the order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, TypeVar
from uuid import UUID


from contracts.claims import ReturnDecided
from contracts.orders import (
    LineCancelled,
    OrderConfirmed,
    OrderHeld,
    OrderPlaced,
    PriceChangeAccepted,
    QcResolutionChosen,
)
from service_runtime.errors import NotFound
from service_runtime.store import ServiceApplication
from service_runtime.tracing import TracedAggregate
from services.purchasing.domain import FIRST_ATTEMPT, PurchaseTask, PurchasingOrder, purchasing_order_id

T = TypeVar("T")


class PurchasingApplication(ServiceApplication):
    name = "purchasing"

    # Queries ------------------------------------------------------------------------------

    def order(self, order_id: UUID) -> PurchasingOrder:
        order = self.find(purchasing_order_id(order_id), PurchasingOrder)
        if order is None:
            raise NotFound(f"order {order_id} is not known to purchasing")
        return order

    def task(self, task_id: UUID) -> PurchaseTask:
        task = self.find(task_id, PurchaseTask)
        if task is None:
            raise NotFound(f"purchase task {task_id} not found")
        return task

    def tasks_of(self, order_id: UUID) -> list[PurchaseTask]:
        """Every attempt of every line, by line then attempt (empty until the order is confirmed)."""
        return [self.task(task_id) for task_id in self.order(order_id).task_ids()]

    # The agent's commands -----------------------------------------------------------------

    def change_task(self, task_id: UUID, change: Callable[[PurchaseTask], T]) -> PurchaseTask:
        """Change a task and save it, again on fresh state if a reaction changed it meanwhile."""

        def attempt() -> tuple[list[PurchaseTask], PurchaseTask]:
            task = self.task(task_id)
            change(task)
            return [task], task

        return self.save_with_retry(attempt)

    def purchase(self, task_id: UUID, agent_id: str, details: dict[str, Any]) -> PurchaseTask:
        return self.change_task(task_id, lambda task: task.buy(agent_id=agent_id, **details))

    def request_price_change(self, task_id: UUID, agent_id: str, new_unit_price: Decimal) -> PurchaseTask:
        return self.change_task(task_id, lambda task: task.request_price_change(new_unit_price, agent_id))

    def report_out_of_stock(self, task_id: UUID, agent_id: str) -> PurchaseTask:
        return self.change_task(task_id, lambda task: task.report_out_of_stock(agent_id))

    def record_domestic_shipment(self, task_id: UUID, agent_id: str, carrier: str,
                                 tracking_number: str) -> PurchaseTask:
        return self.change_task(task_id, lambda task: task.record_domestic_shipment(carrier, tracking_number,
                                                                                     agent_id))

    # Reactions to orders ------------------------------------------------------------------

    def on_order_placed(self, payload: OrderPlaced, _envelope: Any) -> list[PurchasingOrder]:
        if purchasing_order_id(payload.order_id) in self.repository:
            return []
        lines = [line.model_dump() for line in payload.lines]
        return [PurchasingOrder(order_id=payload.order_id, customer_id=payload.customer_id, lines=lines)]

    def on_order_confirmed(self, payload: OrderConfirmed, _envelope: Any) -> list[TracedAggregate]:
        order = self.order(payload.order_id)
        if not order.confirm():
            return []
        tasks = [self._held_if_order_is(order, PurchaseTask.open(order, line["line_no"], FIRST_ATTEMPT))
                 for line in order.lines]
        return [order, *tasks]

    def on_order_held(self, payload: OrderHeld, _envelope: Any) -> list[TracedAggregate]:
        order = self.order(payload.order_id)
        order.hold(list(payload.reasons))
        tasks = self.tasks_of(payload.order_id)
        for task in tasks:
            task.hold(order.hold_reasons)
        return [order, *tasks]

    def on_price_change_accepted(self, payload: PriceChangeAccepted, _envelope: Any) -> list[PurchaseTask]:
        task = self._current_task(payload.order_id, payload.line_no)
        if task is None:
            raise NotFound(f"line {payload.line_no} of order {payload.order_id} has no purchase task")
        task.reopen_at(payload.new_unit_price)
        return [task]

    def on_line_cancelled(self, payload: LineCancelled, _envelope: Any) -> list[PurchaseTask]:
        task = self._current_task(payload.order_id, payload.line_no)
        if task is None or not task.unfinished:
            return []  # nothing left to buy for this line (or already cancelled)
        task.cancel(payload.reason)
        return [task]

    def on_qc_resolution_chosen(self, payload: QcResolutionChosen, _envelope: Any) -> list[TracedAggregate]:
        if payload.choice != "repurchase":
            return []
        return self._repurchase(payload.order_id, payload.line_no, payload.traceability_code)

    def on_return_decided(self, payload: ReturnDecided, _envelope: Any) -> list[TracedAggregate]:
        """An approved exchange buys the line again (the returned item goes back to its merchant)."""
        if payload.kind != "exchange" or not payload.approved:
            return []
        return self._repurchase(payload.order_id, payload.line_no, payload.traceability_code)

    def _repurchase(self, order_id: UUID, line_no: int, traceability_code: str) -> list[TracedAggregate]:
        order = self.order(order_id)
        previous = self._current_task(order_id, line_no)
        attempt = order.start_repurchase(line_no, traceability_code)
        if attempt is None:
            return []
        # Buy again at the price the customer last agreed to, not the one first entered.
        price = previous.expected_unit_price if previous is not None else None
        task = PurchaseTask.open(order, line_no, attempt, expected_unit_price=price)
        return [order, self._held_if_order_is(order, task)]

    def _current_task(self, order_id: UUID, line_no: int) -> PurchaseTask | None:
        task_id = self.order(order_id).current_task_id(line_no)
        return self.task(task_id) if task_id else None

    @staticmethod
    def _held_if_order_is(order: PurchasingOrder, task: PurchaseTask) -> PurchaseTask:
        if order.hold_reasons:
            task.hold(order.hold_reasons)
        return task
