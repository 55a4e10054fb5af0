"""The customer's tracking timeline: which event is which stage, in English and Chinese (pure)."""

from __future__ import annotations

from typing import Any

from service_runtime.clock import utc_timestamp

# event type (and, for carrier updates, status) -> stage code, English, Chinese
STAGES: dict[str, tuple[str, str, str]] = {
    "orders.OrderPlaced": ("order_placed", "Order placed", "已下单"),
    "orders.PaymentRecorded": ("payment_received", "Payment received", "已付款"),
    "payments.PaymentFailed": ("payment_failed", "Payment failed: nothing was charged", "支付失败，未扣款"),
    "payments.BalanceCredited": ("balance_credited", "Credited to your balance", "已退至余额"),
    "fraud.OrderCleared": ("payment_review_passed", "Payment review passed", "支付审核通过"),
    "fraud.OrderFlagged": ("payment_review_flagged", "Payment review flagged the order", "支付审核异常"),
    "fraud.ReviewReleased": ("review_released", "Payment review: released by an analyst", "人工审核通过"),
    "fraud.ReviewCancelled": ("review_cancelled", "Payment review: cancelled and refunded", "人工审核取消并退款"),
    "orders.OrderConfirmed": ("order_confirmed", "Order confirmed", "订单已确认"),
    "orders.OrderHeld": ("order_on_hold", "Order on hold", "订单已暂停"),
    "purchasing.PurchaseTaskOpened": ("purchasing_started", "Purchasing started", "开始采购"),
    "purchasing.ItemPurchased": ("purchased", "Purchased from the merchant", "已向商家下单"),
    "purchasing.PriceChangeRequested": ("price_changed", "Price changed: your decision is needed", "价格变动，待您确认"),
    "purchasing.OutOfStockReported": ("out_of_stock", "Out of stock: your decision is needed", "商品缺货，待您确认"),
    "purchasing.PurchaseTaskCancelled": ("purchase_cancelled", "Purchase cancelled", "采购已取消"),
    "orders.PriceDifferenceBilled": ("price_difference_due", "New price accepted: pay the difference",
                                     "已接受新价格，待支付差价"),
    "orders.PriceChangeAccepted": ("new_price_accepted", "New price accepted", "已接受新价格"),
    "orders.LineCancelled": ("item_cancelled", "Item cancelled", "商品已取消"),
    "orders.RefundIssued": ("refund_issued", "Refund issued", "已退款"),
    "purchasing.DomesticShipmentRecorded": ("merchant_shipped", "Merchant shipped to our warehouse", "商家已发货"),
    "warehouse.ItemReceived": ("warehouse_entry", "Arrived at our warehouse", "已入库"),
    "warehouse.SpecialInspectionRecorded": ("special_inspection", "Special inspection", "特殊品类检验"),
    "warehouse.ItemInspected": ("quality_inspection", "Quality inspection", "质量检验"),
    "orders.QcResolutionChosen": ("inspection_resolution", "Your choice after inspection", "质检问题处理方案"),
    "warehouse.ItemStored": ("stored", "Stored in the warehouse", "已上架存储"),
    "warehouse.StorageNoticeDue": ("storage_notice", "Storage notice (reminder or abandonment)", "仓储通知（提醒或弃置）"),
    "warehouse.ItemRecalled": ("recalled", "Recalled: its batch was found defective", "批次召回"),
    "warehouse.ConsolidationRequested": ("shipping_requested", "Shipping requested", "已申请发货"),
    "warehouse.ParcelPacked": ("packed", "Packed", "已打包"),
    "logistics.ShippingLineChosen": ("shipping_paid", "Shipping line chosen and paid", "已选择线路并支付运费"),
    "logistics.CustomsDeclared": ("customs_declared", "Customs declaration filed", "已报关"),
    "logistics.ParcelShipped": ("shipped", "Shipped", "已发出"),
    "logistics.TrackingUpdated:in_transit": ("in_transit", "In transit", "运输中"),
    "logistics.TrackingUpdated:customs_cleared": ("customs_cleared", "Customs cleared", "已清关"),
    "logistics.TrackingUpdated:out_for_delivery": ("out_for_delivery", "Out for delivery", "派送中"),
    "logistics.TrackingUpdated:delivered": ("delivered", "Delivered", "已送达"),
    "logistics.TrackingUpdated:exception": ("shipping_exception", "Shipping exception", "运输异常"),
    "logistics.CustomsStatusReported:customs_hold": ("customs_hold", "Held by customs", "海关扣留查验"),
    "logistics.CustomsStatusReported:customs_seized": ("customs_seized", "Seized by customs", "被海关没收"),
    "logistics.CustomsStatusReported:customs_released": ("customs_released", "Released by customs", "海关已放行"),
    "logistics.ReceiptConfirmed": ("receipt_confirmed", "Receipt confirmed", "已确认收货"),
    "logistics.InsuranceChosen": ("shipping_insurance", "Shipping insurance chosen", "已选择运输保险"),
    "logistics.CarrierIncidentReported": ("carrier_incident", "Carrier reports a problem", "承运商报告异常"),
    "orders.LineHeldForScreening": ("under_review", "Under compliance review before we buy it", "采购前合规审核中"),
    "orders.ScreeningHoldDecided": ("review_decided", "Compliance review decided", "合规审核已完成"),
    "claims.ClaimOpened": ("claim_opened", "After-sales claim opened", "已提交售后申请"),
    "claims.CompensationDecided": ("claim_decided", "Claim decided", "售后申请已处理"),
    "claims.CounterfeitConfirmed": ("counterfeit_confirmed", "Counterfeit found: refunded in full, merchant "
                                    "blocked", "发现假货：全额退款，商家已封禁"),
    "claims.DisputeOpened": ("dispute_opened", "You contested the decision", "您已对处理结果提出异议"),
    "claims.DisputeResolved": ("dispute_resolved", "Your dispute was reviewed", "异议已复核"),
    "claims.ReturnDecided": ("return_decided", "Return or exchange request decided", "退换货申请已处理"),
    "claims.ReturnShippedToMerchant": ("returned_to_merchant", "Sent back to the merchant", "已退回商家"),
    "claims.TicketOpened": ("ticket_opened", "After-sales ticket opened", "已创建售后工单"),
    "claims.TicketAnswered": ("ticket_answered", "Support answered your ticket", "客服已回复工单"),
    "claims.TicketEscalated": ("ticket_escalated", "Ticket escalated: our answer is late", "工单已升级：回复超时"),
    "claims.TicketClosed": ("ticket_closed", "Ticket closed", "工单已关闭"),
    "claims.SatisfactionRated": ("satisfaction_rated", "Thank you for your rating", "感谢您的评价"),
    "claims.AbroadReturnDecided": ("abroad_return_decided", "Return from abroad decided", "海外退货申请已处理"),
    "claims.AbroadReturnShipped": ("abroad_return_shipped", "Sent back to our warehouse", "已寄回我们的仓库"),
    "claims.AbroadReturnReceived": ("abroad_return_received", "Your return reached our warehouse", "退货已到达仓库"),
    "claims.AbroadReturnInspected": ("abroad_return_inspected", "Your return was inspected", "退货已验收"),
}

# Facts a customer may see on their timeline, by stage; internal references stay out.
DETAIL_FIELDS = frozenset((
    "line_no", "quantity", "sku", "platform", "merchant_name", "carrier", "tracking_number",
    "location", "passed", "issues", "photos", "new_unit_price", "old_unit_price", "amount",
    "reason", "reasons", "choice", "rules_version", "line_code", "traceability_code", "kind", "approved",
    "insured", "premium", "incident", "origin", "explanation_en", "explanation_zh",
    "topic", "urgent", "due_at", "within_sla", "rating", "refund_amount", "outcome",
    "milestone", "days_stored", "fees_due", "condition", "return_shipping_paid_by", "deadline",
    "condition_required", "decision_no", "rule", "reason_zh"))


def stage_key(event_type: str, payload: dict[str, Any]) -> str:
    if event_type in ("logistics.TrackingUpdated", "logistics.CustomsStatusReported"):
        return f"{event_type}:{payload['status']}"
    return event_type


def entry_for(event_type: str, actor: str, occurred_at: str,
              payload: dict[str, Any]) -> dict[str, Any] | None:
    key = stage_key(event_type, payload)
    if key not in STAGES:
        return None
    code, english, chinese = STAGES[key]
    at = utc_timestamp(payload.get("carrier_time") or occurred_at)  # a carrier's scan time is when it happened
    return {
        "stage": code, "name_en": english, "name_zh": chinese, "at": at,
        "actor": actor,
        "details": {k: v for k, v in payload.items() if k in DETAIL_FIELDS and v not in (None, [], "")},
    }


# What the customer is asked to do next, by the latest stage of their order (None: nothing, we are on it).
NEXT_ACTIONS: dict[str, str] = {
    "order_placed": "pay",
    "price_changed": "decide",
    "out_of_stock": "decide",
    "stored": "request_shipment",
    "storage_notice": "request_shipment",
    "packed": "choose_shipping",
    "delivered": "confirm_receipt",
}
NEXT_ACTION_NAMES = {
    "pay": ("Pay for the order", "支付订单"),
    "decide": ("Your decision is needed", "需要您的决定"),
    "request_shipment": ("Request shipment from the warehouse", "申请从仓库发货"),
    "choose_shipping": ("Choose a shipping line and pay", "选择线路并支付运费"),
    "confirm_receipt": ("Confirm receipt", "确认收货"),
}


def next_action(entries: list[dict[str, Any]]) -> str | None:
    """The latest stage decides; a failed inspection waits for the customer's choice."""
    if not entries:
        return None
    latest = entries[-1]
    if latest["stage"] == "quality_inspection" and latest["details"].get("passed") is False:
        return "decide"
    return NEXT_ACTIONS.get(latest["stage"])
