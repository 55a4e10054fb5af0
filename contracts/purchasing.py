"""Events published by the purchasing service on `kongfu.purchasing.events`."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from contracts.common import Category
from contracts.registry import EventPayload, register


@register
class PurchaseTaskOpened(EventPayload):
    event_type = "purchasing.PurchaseTaskOpened"
    task_id: UUID
    order_id: UUID
    customer_id: str
    line_no: int
    platform: str
    item_id: str
    product_url: str
    sku: str
    quantity: int
    expected_unit_price: Decimal


@register
class ItemPurchased(EventPayload):
    event_type = "purchasing.ItemPurchased"
    task_id: UUID
    order_id: UUID
    line_no: int
    platform: str
    platform_order_no: str
    amount_paid: Decimal  # CNY, what the merchant was actually paid
    merchant_id: str
    merchant_name: str
    receipt_ref: str
    category: Category
    agent_id: str


@register
class PriceChangeRequested(EventPayload):
    event_type = "purchasing.PriceChangeRequested"
    task_id: UUID
    order_id: UUID
    line_no: int
    quantity: int
    old_unit_price: Decimal
    new_unit_price: Decimal
    agent_id: str


@register
class OutOfStockReported(EventPayload):
    event_type = "purchasing.OutOfStockReported"
    task_id: UUID
    order_id: UUID
    line_no: int
    agent_id: str


@register
class PurchaseTaskCancelled(EventPayload):
    event_type = "purchasing.PurchaseTaskCancelled"
    task_id: UUID
    order_id: UUID
    line_no: int
    reason: str


@register
class DomesticShipmentRecorded(EventPayload):
    """The merchant shipped to our warehouse; carries what intake needs to match and trace it."""

    event_type = "purchasing.DomesticShipmentRecorded"
    task_id: UUID
    order_id: UUID
    customer_id: str
    line_no: int
    carrier: str
    tracking_number: str
    platform: str
    item_id: str
    sku: str
    quantity: int
    category: Category
    amount_paid: Decimal
    merchant_id: str
    merchant_name: str
    platform_order_no: str
    receipt_ref: str
    agent_id: str


@register
class MerchantBlocked(EventPayload):
    """A merchant may no longer be bought from: by a rule (counterfeit, QC failure rate) or by a risk
    analyst. `listings` are the marketplace item ids we bought from it, so orders can refuse them."""

    event_type = "purchasing.MerchantBlocked"
    platform: str
    merchant_id: str
    merchant_name: str
    status: Literal["blocked_pending_review", "blocked", "blocked_permanently"]
    rule: str
    rules_version: str
    reason: str
    decided_by: str
    listings: list[str]


@register
class MerchantUnblocked(EventPayload):
    """A risk analyst approved a merchant after review, or lifted an analyst's block, with a reason."""

    event_type = "purchasing.MerchantUnblocked"
    platform: str
    merchant_id: str
    merchant_name: str
    decision: Literal["approved", "unblocked"]
    reason: str
    decided_by: str
    listings: list[str]
