"""Returns and exchanges by product type (pure rules and the return's aggregate; published at
`GET /rules/returns`).

An item in our warehouse may go back to its merchant within 5 days of stock-in; underwear,
customised items and opened consumables never; electronics only when faulty. A return is
approved or refused by these rules (the rule named); an approved one is shipped back by the
purchasing agent, and when the merchant refunds, the customer is credited the merchant's refund
less the return postage (none when the item was faulty or wrong), itemised, through the
compensation policy. An exchange opens a new purchase of the same line instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict
from service_runtime.tracing import TracedAggregate

RETURNS_VERSION = "returns-2026.12"
WINDOW_DAYS = 5
RETURN_POSTAGE = Decimal("12.00")  # domestic postage back to the merchant, CNY
NO_POSTAGE_REASONS = ("faulty", "wrong_item")
EXCLUDED = {
    "underwear": ("Underwear cannot be returned.", "内衣类商品不支持退换。"),
    "customised": ("Customised items cannot be returned.", "定制商品不支持退换。"),
    "opened_consumable": ("Opened consumables cannot be returned.", "已拆封的消耗品不支持退换。"),
}
FAULTY_ONLY = {"electronics": ("Electronics are returned only when faulty.", "电子产品仅在故障时可退换。")}


def published_returns() -> dict[str, Any]:
    return {"version": RETURNS_VERSION, "window_days_after_stock_in": WINDOW_DAYS,
            "excluded_product_types": {k: v[0] for k, v in EXCLUDED.items()},
            "faulty_only_categories": {k: v[0] for k, v in FAULTY_ONLY.items()},
            "return_postage": str(RETURN_POSTAGE), "no_postage_when": list(NO_POSTAGE_REASONS),
            "kinds": ["return", "exchange"]}


def judge(reason: str, product_type: str, category: str, received_at: datetime,
          now: datetime) -> tuple[bool, str, str, str]:
    """(approved, rule, English, Chinese) for a return or exchange request."""
    deadline = received_at + timedelta(days=WINDOW_DAYS)
    if now > deadline:
        return (False, "outside_window", f"Returns close {WINDOW_DAYS} days after stock-in; the deadline was "
                f"{deadline.isoformat()}.", f"入库后 {WINDOW_DAYS} 天内可退换，截止时间为 {deadline.isoformat()}。")
    if product_type in EXCLUDED:
        return (False, f"excluded_{product_type}", *EXCLUDED[product_type])
    if category in FAULTY_ONLY and reason != "faulty":
        return (False, f"{category}_only_if_faulty", *FAULTY_ONLY[category])
    return (True, "within_window", f"Accepted: within {WINDOW_DAYS} days of stock-in ({deadline.isoformat()}).",
            f"已受理：在入库后 {WINDOW_DAYS} 天内（截止 {deadline.isoformat()}）。")


def postage_for(reason: str) -> Decimal:
    return Decimal("0.00") if reason in NO_POSTAGE_REASONS else RETURN_POSTAGE


class ItemReturn(TracedAggregate):
    """A customer's return or exchange of one received item, judged by the rules at once."""

    @staticmethod
    def create_id(return_id: UUID, **_: Any) -> UUID:
        return return_id

    @event("Decided")
    def __init__(self, return_id: UUID, order_id: UUID, customer_id: str, line_no: int, traceability_code: str,
                 kind: str, reason: str, product_type: str, approved: bool, rule: str, rules_version: str,
                 explanation_en: str, explanation_zh: str) -> None:
        self.order_id = order_id
        self.customer_id = customer_id
        self.line_no, self.traceability_code = line_no, traceability_code
        self.kind, self.reason, self.approved, self.rule = kind, reason, approved, rule
        self.status = "approved" if approved else "refused"
        self.shipment: dict | None = None
        self.refunded = False

    def ship_back(self, carrier: str, tracking_number: str, agent: str) -> None:
        if self.status != "approved" or self.kind != "return":
            raise Conflict(f"return {self.id} is not an approved return ({self.kind}, {self.status})")
        if self.shipment is None:
            self._ship_back(return_id=self.id, order_id=self.order_id, customer_id=self.customer_id,
                            carrier=carrier, tracking_number=tracking_number, agent=agent)

    @event("ShippedBack")
    def _ship_back(self, return_id: UUID, order_id: UUID, customer_id: str, carrier: str, tracking_number: str,
                   agent: str) -> None:
        self.shipment = {"carrier": carrier, "tracking_number": tracking_number}
        self.status = "shipped_back"

    def refund(self, compensation: Any, agent: str) -> None:
        if self.shipment is None or self.refunded:
            raise Conflict(f"return {self.id} must be shipped back, and is refunded once")
        self._refund(claim_id=self.id, parcel_id=None, customer_id=self.customer_id, order_ids=[self.order_id],
                     kind="return_refund", approved=True, amount=compensation.amount, currency="CNY",
                     rule=compensation.rule, rule_version=compensation.rule_version, inputs=compensation.inputs,
                     decided_by=agent, notes="the merchant refunded the returned item",
                     explanation_en=compensation.explanation_en, explanation_zh=compensation.explanation_zh)

    @event("Refunded")
    def _refund(self, claim_id: UUID, parcel_id: None, customer_id: str, order_ids: list, kind: str, approved: bool,
                amount: Decimal, currency: str, rule: str, rule_version: str, inputs: dict, decided_by: str,
                notes: str, explanation_en: str, explanation_zh: str) -> None:
        self.refunded = True
        self.status = "refunded"
