"""Returns of items already delivered abroad (pure rules and the return's aggregate; published
with the other return rules at `GET /rules/returns`).

By product type: how many days after delivery a return may be asked for, and the condition the
item must come back in; underwear, customised items and opened consumables never come back, and
electronics only when faulty. Who pays the shipping back follows the reason: the customer when
they changed their mind, the platform when the item was faulty, wrong or not as described (the
customer's postage is then refunded, up to a cap). The customer ships it to our warehouse with a
tracking number; the refund is decided only once the warehouse has received and inspected it:
the item's value in full when it is as sent, less a published share for a condition problem.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict
from service_runtime.tracing import TracedAggregate, stable_id
from services.claims.returns import EXCLUDED, FAULTY_ONLY, published_returns

ABROAD_VERSION = "returns-abroad-2026.12"
WAREHOUSE_ADDRESS = "KongfuMall returns, 88 Jiangbin Road, Yiwu, Zhejiang 322000, China"
POSTAGE_CAP = Decimal("150.00")  # the most of a customer's return postage the platform refunds
# product type or category → days after delivery to ask, and the condition expected back
WINDOWS = {
    "general": (14, "unused, with its tags and original packaging"),
    "electronics": (30, "with every accessory, manuals and the original box"),
}
PLATFORM_PAYS_WHEN = ("faulty", "wrong_item", "not_as_described")
# What an inspection finds → the share of the item's value kept back.
CONDITION_DEDUCTIONS = {"as_sent": Decimal("0.00"), "used": Decimal("0.30"), "damaged_by_customer": Decimal("0.50")}


def abroad_return_id(parcel_id: UUID, traceability_code: str) -> UUID:
    return stable_id("abroad-return", parcel_id, traceability_code)


def published_abroad_returns() -> dict[str, Any]:
    return {"version": ABROAD_VERSION, "send_to": WAREHOUSE_ADDRESS,
            "window_days_after_delivery": {k: days for k, (days, _) in WINDOWS.items()},
            "condition_required": {k: condition for k, (_, condition) in WINDOWS.items()},
            "excluded_product_types": {k: v[0] for k, v in EXCLUDED.items()},
            "faulty_only_categories": {k: v[0] for k, v in FAULTY_ONLY.items()},
            "return_shipping_paid_by": {"platform_when": list(PLATFORM_PAYS_WHEN), "otherwise": "customer"},
            "postage_refund_cap": str(POSTAGE_CAP),
            "refund": "after our warehouse receives and inspects the item: its value, less a share when its "
                      "condition is not as sent",
            "condition_deductions": {k: str(v) for k, v in CONDITION_DEDUCTIONS.items()}}


def published_return_rules() -> dict[str, Any]:
    """`GET /rules/returns`: to the merchant from our warehouse, and from abroad after delivery."""
    return {**published_returns(), "from_abroad": published_abroad_returns()}


def judge_abroad(reason: str, product_type: str, category: str, delivered_at: datetime,
                 now: datetime) -> dict[str, Any]:
    """The decision on a return from abroad: approved or not, the rule, who pays the shipping back,
    the deadline, the condition expected, and why in English and Chinese."""
    kind = category if category in WINDOWS else "general"
    days, condition = WINDOWS[kind]
    deadline = delivered_at + timedelta(days=days)
    paid_by = "platform" if reason in PLATFORM_PAYS_WHEN else "customer"
    decision = {"return_shipping_paid_by": paid_by, "deadline": deadline, "condition_required": condition}
    if now > deadline:
        return {**decision, "approved": False, "rule": "outside_window",
                "explanation_en": f"Returns from abroad close {days} days after delivery; the deadline was "
                                  f"{deadline.isoformat()}.",
                "explanation_zh": f"海外退货须在签收后 {days} 天内申请，截止时间为 {deadline.isoformat()}。"}
    if product_type in EXCLUDED:
        english, chinese = EXCLUDED[product_type]
        return {**decision, "approved": False, "rule": f"excluded_{product_type}", "explanation_en": english,
                "explanation_zh": chinese}
    if category in FAULTY_ONLY and reason != "faulty":
        english, chinese = FAULTY_ONLY[category]
        return {**decision, "approved": False, "rule": f"{category}_only_if_faulty", "explanation_en": english,
                "explanation_zh": chinese}
    payer_en = f"we refund your postage (up to {POSTAGE_CAP} CNY)" if paid_by == "platform" else "you pay the postage"
    payer_zh = f"运费由平台承担（最多退还 {POSTAGE_CAP} 元）" if paid_by == "platform" else "运费由您承担"
    return {**decision, "approved": True, "rule": f"abroad_{kind}_within_{days}_days",
            "explanation_en": f"Accepted: send it {condition} to {WAREHOUSE_ADDRESS} by {deadline.date()}; "
                              f"{payer_en}. The refund follows our inspection.",
            "explanation_zh": f"已受理：请于 {deadline.date()} 前将商品（{condition}）寄回 {WAREHOUSE_ADDRESS}；"
                              f"{payer_zh}。验货后退款。"}


def refund_facts(item_value: Decimal, condition: str, paid_by: str, postage: Decimal) -> dict[str, str]:
    """What the compensation policy refunds from: the item's value, the condition's deduction and
    the postage the platform pays back."""
    refunded_postage = min(postage, POSTAGE_CAP) if paid_by == "platform" else Decimal("0.00")
    return {"kind": "abroad_return_refund", "approved": "true", "item_value": str(item_value),
            "condition": condition, "condition_deduction": str(CONDITION_DEDUCTIONS[condition]),
            "return_postage_refunded": str(refunded_postage)}


class AbroadReturn(TracedAggregate):
    """One delivered item sent back from abroad: decided, shipped, received, inspected, refunded."""

    @staticmethod
    def create_id(return_id: UUID, **_: Any) -> UUID:
        return return_id

    @event("Decided")
    def __init__(self, return_id: UUID, parcel_id: UUID, order_id: UUID, customer_id: str, line_no: int,
                 traceability_code: str, reason: str, product_type: str, item_value: Decimal, approved: bool,
                 rule: str, rules_version: str, return_shipping_paid_by: str, deadline: datetime,
                 condition_required: str, explanation_en: str, explanation_zh: str) -> None:
        self.parcel_id, self.order_id, self.customer_id = parcel_id, order_id, customer_id
        self.line_no, self.traceability_code = line_no, traceability_code
        self.reason, self.product_type, self.item_value = reason, product_type, item_value
        self.approved, self.rule, self.rules_version = approved, rule, rules_version
        self.return_shipping_paid_by, self.deadline = return_shipping_paid_by, deadline
        self.condition_required = condition_required
        self.explanation_en, self.explanation_zh = explanation_en, explanation_zh
        self.status = "awaiting_shipment" if approved else "refused"
        self.shipment: dict | None = None
        self.received_by: str | None = None
        self.inspection: dict | None = None
        self.refund: dict | None = None

    def _facts(self) -> dict[str, Any]:
        return dict(return_id=self.id, order_id=self.order_id, customer_id=self.customer_id)

    def register_shipment(self, carrier: str, tracking_number: str, postage: Decimal) -> None:
        if self.status != "awaiting_shipment":
            raise Conflict(f"return {self.id} is {self.status.replace('_', ' ')}: no shipment can be registered")
        self._ship(**self._facts(), carrier=carrier, tracking_number=tracking_number, postage=postage)

    @event("Shipped")
    def _ship(self, return_id: UUID, order_id: UUID, customer_id: str, carrier: str, tracking_number: str,
              postage: Decimal) -> None:
        self.shipment = {"carrier": carrier, "tracking_number": tracking_number, "postage": postage}
        self.status = "on_its_way_back"

    def receive(self, staff_id: str) -> None:
        if self.status != "on_its_way_back":
            raise Conflict(f"return {self.id} is {self.status.replace('_', ' ')}, not on its way back")
        self._receive(**self._facts(), tracking_number=self.shipment["tracking_number"], staff_id=staff_id)

    @event("Received")
    def _receive(self, return_id: UUID, order_id: UUID, customer_id: str, tracking_number: str,
                 staff_id: str) -> None:
        self.received_by = staff_id
        self.status = "received"

    def inspect(self, condition: str, notes: str, photos: list[str], staff_id: str, compensation: Any) -> None:
        """The inspection decides the refund (through the compensation policy, recorded with it)."""
        if self.status != "received":
            raise Conflict(f"return {self.id} must be received at the warehouse before it is inspected")
        self._inspect(**self._facts(), condition=condition, notes=notes, photos=list(photos), staff_id=staff_id)
        self._refund(claim_id=self.id, parcel_id=self.parcel_id, customer_id=self.customer_id,
                     order_ids=[self.order_id], kind="abroad_return_refund", approved=True,
                     amount=compensation.amount, currency="CNY", rule=compensation.rule,
                     rule_version=compensation.rule_version, inputs=compensation.inputs, decided_by=staff_id,
                     notes=notes, explanation_en=compensation.explanation_en,
                     explanation_zh=compensation.explanation_zh)

    @event("Inspected")
    def _inspect(self, return_id: UUID, order_id: UUID, customer_id: str, condition: str, notes: str,
                 photos: list[str], staff_id: str) -> None:
        self.inspection = {"condition": condition, "notes": notes, "photos": photos}
        self.status = "inspected"

    @event("Refunded")
    def _refund(self, claim_id: UUID, parcel_id: UUID, customer_id: str, order_ids: list, kind: str,
                approved: bool, amount: Decimal, currency: str, rule: str, rule_version: str, inputs: dict,
                decided_by: str, notes: str, explanation_en: str, explanation_zh: str) -> None:
        self.refund = {"amount": amount, "rule": rule, "rule_version": rule_version,
                       "explanation_en": explanation_en, "explanation_zh": explanation_zh}
        self.status = "refunded"
