"""The purchasing gateway: purchasing agents work the tasks; support and auditors read them."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from contracts.common import Category
from service_runtime.auth import AUDITOR, PURCHASING_AGENT, SUPPORT_AGENT, Caller
from service_runtime.http import require_roles
from service_runtime.on_loop import on_loop
from service_runtime.requests import Money, Strict
from services.purchasing.app import PurchasingApplication
from services.purchasing.domain import PurchaseTask

Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
READERS = (PURCHASING_AGENT, SUPPORT_AGENT, AUDITOR)


class PurchaseRequest(Strict):
    platform_order_no: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$",
                                   description="The order number the marketplace gave our purchase")
    amount_paid: Money = Field(description="CNY actually paid to the merchant")
    merchant_id: Text
    merchant_name: Text
    receipt_ref: str = Field(min_length=3, max_length=500, pattern=r"^\S+$",
                             description="Where the marketplace receipt is kept, e.g. receipt://taobao/<id>")
    category: Category


class PriceChangeRequest(Strict):
    new_unit_price: Money = Field(description="The merchant's new unit price in CNY")


class DomesticShipmentRequest(Strict):
    carrier: Text = Field(examples=["SF Express"])
    tracking_number: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 \-]*$")


class PurchaseView(BaseModel):
    platform_order_no: str
    amount_paid: Decimal
    merchant_id: str
    merchant_name: str
    receipt_ref: str
    category: str
    purchased_by: str


class ShipmentView(BaseModel):
    carrier: str
    tracking_number: str
    recorded_by: str


class AwaitingView(BaseModel):
    kind: str
    new_unit_price: Decimal | None = None


class TaskView(BaseModel):
    task_id: UUID
    order_id: UUID
    line_no: int
    attempt: int
    status: str
    on_hold: bool
    hold_reasons: list[str]
    platform: str
    item_id: str
    product_url: str
    sku: str
    quantity: int
    expected_unit_price: Decimal
    awaiting_customer: AwaitingView | None
    purchase: PurchaseView | None
    domestic_shipment: ShipmentView | None
    cancel_reason: str | None
    version: int

    @classmethod
    def of(cls, task: PurchaseTask) -> "TaskView":
        return cls(
            task_id=task.id, order_id=task.order_id, line_no=task.line_no, attempt=task.attempt,
            status=task.status, on_hold=task.on_hold, hold_reasons=task.hold_reasons, platform=task.platform,
            item_id=task.item_id, product_url=task.product_url, sku=task.sku, quantity=task.quantity,
            expected_unit_price=task.expected_unit_price, awaiting_customer=task.awaiting,
            purchase=task.purchase, domestic_shipment=task.shipment, cancel_reason=task.cancel_reason,
            version=task.version,
        )


def router(app: PurchasingApplication) -> APIRouter:
    api = APIRouter(prefix="/purchasing", tags=["purchasing"])

    @api.get("/orders/{order_id}/tasks", response_model=list[TaskView])
    @on_loop
    def order_tasks(order_id: UUID, _: Caller = Depends(require_roles(*READERS))):
        return [TaskView.of(task) for task in app.tasks_of(order_id)]

    @api.get("/tasks/{task_id}", response_model=TaskView)
    def get_task(task_id: UUID, _: Caller = Depends(require_roles(*READERS))):
        return TaskView.of(app.task(task_id))

    @api.post("/tasks/{task_id}/purchase", response_model=TaskView)
    @on_loop
    def purchase(task_id: UUID, body: PurchaseRequest, caller: Caller = Depends(require_roles(PURCHASING_AGENT))):
        """Record the purchase on the marketplace, with its receipt."""
        return TaskView.of(app.purchase(task_id, caller.subject, body.model_dump()))

    @api.post("/tasks/{task_id}/price-change", response_model=TaskView)
    def price_change(task_id: UUID, body: PriceChangeRequest,
                     caller: Caller = Depends(require_roles(PURCHASING_AGENT))):
        """The merchant's price changed: ask the customer before buying."""
        return TaskView.of(app.request_price_change(task_id, caller.subject, body.new_unit_price))

    @api.post("/tasks/{task_id}/out-of-stock", response_model=TaskView)
    def out_of_stock(task_id: UUID, caller: Caller = Depends(require_roles(PURCHASING_AGENT))):
        return TaskView.of(app.report_out_of_stock(task_id, caller.subject))

    @api.post("/tasks/{task_id}/domestic-shipment", response_model=TaskView)
    @on_loop
    def domestic_shipment(task_id: UUID, body: DomesticShipmentRequest,
                          caller: Caller = Depends(require_roles(PURCHASING_AGENT))):
        """The merchant shipped the purchase to our warehouse."""
        return TaskView.of(app.record_domestic_shipment(task_id, caller.subject, body.carrier,
                                                        body.tracking_number))

    return api
