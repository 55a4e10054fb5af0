"""Purchasing application: open a task per confirmed order line, let agents buy and ship, follow the order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, TypeVar
from uuid import UUID

from eventsourcing.utils import get_topic

from contracts.claims import ClaimOpened, CounterfeitConfirmed, ReturnDecided
from contracts.orders import (
    LineCancelled,
    LineHeldForScreening,
    OrderConfirmed,
    OrderHeld,
    OrderPlaced,
    PriceChangeAccepted,
    QcResolutionChosen,
    ScreeningHoldDecided,
)
from contracts.warehouse import ItemInspected, ItemReceived
from service_runtime.errors import NotFound
from service_runtime.store import ServiceApplication
from service_runtime.tracing import TracedAggregate
from services.purchasing.domain import FIRST_ATTEMPT, PurchaseTask, PurchasingOrder, purchasing_order_id
from services.purchasing.merchants import Merchant, ReceivedItem, merchant_key, received_item_key

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
        task_ids = self.order(order_id).task_ids()
        with self.loading_together(*task_ids):
            return [self.task(task_id) for task_id in task_ids]

    def merchant_of(self, platform: str, merchant_id: str) -> Merchant | None:
        return self.find(merchant_key(platform, merchant_id), Merchant)

    # The agent's commands -----------------------------------------------------------------

    def change_task(self, task_id: UUID, change: Callable[[PurchaseTask], T]) -> PurchaseTask:
        """Change a task and save it, again on fresh state if a reaction changed it meanwhile."""

        def attempt() -> tuple[list[PurchaseTask], PurchaseTask]:
            task = self.task(task_id)
            change(task)
            return [task], task

        return self.save_with_retry(attempt)

    def purchase(self, task_id: UUID, agent_id: str, details: dict[str, Any]) -> PurchaseTask:
        """Record the purchase; a blocked merchant is refused with the reason (a 422)."""

        def attempt() -> tuple[list[TracedAggregate], PurchaseTask]:
            task = self.task(task_id)
            merchant = self.merchant_of(task.platform, details["merchant_id"]) or Merchant(
                platform=task.platform, merchant_id=details["merchant_id"], merchant_name=details["merchant_name"])
            merchant.refuse_if_blocked()
            task.buy(agent_id=agent_id, **details)
            merchant.record_purchase(task.id, task.item_id, at=self.clock.now())
            return [task, merchant], task

        return self.save_with_retry(attempt)

    def request_price_change(self, task_id: UUID, agent_id: str, new_unit_price: Decimal) -> PurchaseTask:
        return self.change_task(task_id, lambda task: task.request_price_change(new_unit_price, agent_id))

    def report_out_of_stock(self, task_id: UUID, agent_id: str) -> PurchaseTask:
        return self.change_task(task_id, lambda task: task.report_out_of_stock(agent_id))

    def record_domestic_shipment(self, task_id: UUID, agent_id: str, carrier: str,
                                 tracking_number: str) -> PurchaseTask:
        """The merchant shipped: the task moves on, and the merchant's record learns if it was late."""
        def attempt() -> tuple[list[TracedAggregate], PurchaseTask]:
            task = self.task(task_id)
            task.record_domestic_shipment(carrier, tracking_number, agent_id)
            merchant = self.merchant_of(task.platform, task.purchase["merchant_id"])
            if merchant is None:
                return [task], task
            merchant.record_shipment(task.id, self.clock.now())
            return [task, merchant], task

        return self.save_with_retry(attempt)

    # Reactions to orders ------------------------------------------------------------------

    def on_order_placed(self, payload: OrderPlaced, _envelope: Any) -> list[PurchasingOrder]:
        if purchasing_order_id(payload.order_id) in self.repository:
            return []
        lines = [line.model_dump() for line in payload.lines]
        return [PurchasingOrder(order_id=payload.order_id, customer_id=payload.customer_id, lines=lines)]

    def on_order_confirmed(self, payload: OrderConfirmed, _envelope: Any) -> list[TracedAggregate]:
        """Paid and cleared by payment review, or released by a risk analyst after a hold (before
        or after the first confirmation): the payment review's hold is over. The first
        confirmation opens a task per line; a later one lets the held tasks be bought again."""
        order = self.order(payload.order_id)
        order.hold([])
        if not order.confirm():
            return self._tasks_follow_holds(order)
        tasks = [self._held_if_order_is(order, PurchaseTask.open(order, line["line_no"], FIRST_ATTEMPT))
                 for line in order.lines]
        return [order, *tasks]

    def on_order_held(self, payload: OrderHeld, _envelope: Any) -> list[TracedAggregate]:
        order = self.order(payload.order_id)
        order.hold(list(payload.reasons))
        return self._tasks_follow_holds(order)

    def _tasks_follow_holds(self, order: PurchasingOrder) -> list[TracedAggregate]:
        """Every task of the order holds exactly its line's current reasons."""
        tasks = self.tasks_of(order.order_id)
        for task in tasks:
            task.hold(order.hold_reasons_for(task.line_no))
        return [order, *tasks]

    def on_line_held_for_screening(self, payload: LineHeldForScreening, _envelope: Any) -> list[TracedAggregate]:
        """Screening held the line for a compliance analyst: its task is not bought until approved."""
        order = self.order(payload.order_id)
        return self._line_holds_changed(order, payload.line_no) if order.hold_line_for_review(
            payload.line_no, payload.reason) else []

    def on_screening_hold_decided(self, payload: ScreeningHoldDecided, _envelope: Any) -> list[TracedAggregate]:
        """Approved: the line may be bought. Refused: orders cancels the line, which cancels its task."""
        order = self.order(payload.order_id)
        return self._line_holds_changed(order, payload.line_no) if order.release_line_from_review(
            payload.line_no) else []

    def _line_holds_changed(self, order: PurchasingOrder, line_no: int) -> list[TracedAggregate]:
        """The line's task (if opened yet) holds exactly the line's current reasons."""
        task = self._current_task(order.order_id, line_no)
        if task is not None:
            task.hold(order.hold_reasons_for(line_no))
        return [order, *([task] if task else [])]

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
        """An approved return or exchange counts against the item's merchant; an approved exchange
        buys the line again (the returned item goes back to its merchant)."""
        if not payload.approved:
            return []
        merchant = self._merchant_of_item(payload.traceability_code)
        if merchant is not None:
            merchant.record_return(payload.return_id)
        counted = [merchant] if merchant is not None else []
        if payload.kind != "exchange":
            return counted
        return [*counted, *self._repurchase(payload.order_id, payload.line_no, payload.traceability_code)]

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
        if order.hold_reasons_for(task.line_no):
            task.hold(order.hold_reasons_for(task.line_no))
        return task

    # Merchant governance: the log updates reputations; a risk analyst works the review queue ----

    def merchant(self, platform: str, merchant_id: str) -> Merchant:
        merchant = self.merchant_of(platform, merchant_id)
        if merchant is None:
            raise NotFound(f"merchant {platform}/{merchant_id} is not known to purchasing")
        return merchant

    def merchants(self, status: str | None = None) -> list[Merchant]:
        """Every merchant (or those with one status), by platform and id. Reads the store's
        notification log filtered to merchant registrations: merchants are few next to purchases."""
        topics, found, start = [get_topic(Merchant.Registered)], [], 1
        while batch := self.recorder.select_notifications(start=start, limit=500, topics=topics):
            found += [self.find(n.originator_id, Merchant) for n in batch]
            start = batch[-1].id + 1
        chosen = [m for m in found if m is not None and status in (None, m.status)]
        return sorted(chosen, key=lambda m: (m.platform, m.merchant_id))

    def decide_on_merchant(self, platform: str, merchant_id: str, decision: str, reason: str,
                           analyst: str) -> Merchant:
        def attempt() -> tuple[list[Merchant], Merchant]:
            merchant = self.merchant(platform, merchant_id)
            getattr(merchant, decision)(reason, analyst)
            return [merchant], merchant

        return self.save_with_retry(attempt)

    def on_item_received(self, payload: ItemReceived, _envelope: Any) -> list[ReceivedItem]:
        if received_item_key(payload.traceability_code) in self.repository:
            return []
        return [ReceivedItem(traceability_code=payload.traceability_code, order_id=payload.order_id,
                             platform=payload.platform, merchant_id=payload.merchant_id)]

    def on_item_inspected(self, payload: ItemInspected, _envelope: Any) -> list[Merchant]:
        item = self.find(received_item_key(payload.traceability_code), ReceivedItem)
        merchant = self.find(item.merchant, Merchant) if item is not None else None
        if merchant is None:
            return []  # bought before merchants were recorded: nothing to count against
        merchant.record_inspection(payload.traceability_code, payload.passed)
        return [merchant]

    def _merchant_of_item(self, traceability_code: str | None) -> Merchant | None:
        item = self.find(received_item_key(traceability_code), ReceivedItem) if traceability_code else None
        return self.find(item.merchant, Merchant) if item is not None else None

    def on_claim_opened(self, payload: ClaimOpened, _envelope: Any) -> list[Merchant]:
        merchant = self._merchant_of_item(payload.traceability_code)
        if merchant is None:
            return []  # a claim about the parcel as a whole, or an item bought before merchants were recorded
        merchant.record_claim(payload.claim_id)
        return [merchant]

    def on_counterfeit_confirmed(self, payload: CounterfeitConfirmed, _envelope: Any) -> list[Merchant]:
        merchant = self.merchant_of(payload.platform, payload.merchant_id) or Merchant(
            platform=payload.platform, merchant_id=payload.merchant_id, merchant_name=payload.merchant_name)
        merchant.record_counterfeit(f"{payload.order_id}/{payload.line_no}/{payload.traceability_code or '-'}")
        return [merchant]
