"""The compensation policy: versioned rules as data, evaluated by one pure function.

`RULE_BOOK[version]` says, per claim kind (and, where it matters, insured or not), which basis
an amount is computed from (an item's value, the freight, the insured value plus freight, the
line's route-standard rate per kg, the service fee), the share of it paid, caps, and the
explanation in English and Chinese. `evaluate(book, facts)` turns a claim's facts (strings, so
they can be recorded and replayed exactly) into a `Compensation`. Every decision records its
facts and the rule version; `evaluate(RULE_BOOK[decision.rule_version], decision.inputs)` gives
the same amount again, whatever version is current. Published at `GET /rules/compensation`.
Amounts are CNY, rounded half-up to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping, NamedTuple

from service_runtime.errors import Conflict

CENT = Decimal("0.01")
ITEM_KINDS = ("damaged", "missing_item", "wrong_item")

_ITEM_RULES = {
    "damaged": {"rule": "damaged_item_full_value", "basis": "item_value", "share": "1.00",
                "en": "Damaged item {traceability_code}: {share_pct}% of its value {item_value} CNY = {amount} CNY.",
                "zh": "商品 {traceability_code} 破损：按商品价值 {item_value} 元的 {share_pct}% 赔付 {amount} 元。"},
    "missing_item": {"rule": "missing_item_value_plus_shipping_share", "basis": "item_value_plus_shipping_share",
                     "share": "1.00",
                     "en": "Missing item {traceability_code}: its value {item_value} CNY plus its share "
                           "{shipping_share} CNY of the shipping fee {shipping_fee} CNY = {amount} CNY.",
                     "zh": "商品 {traceability_code} 缺失：商品价值 {item_value} 元，加按价值分摊的运费 "
                           "{shipping_share} 元（总运费 {shipping_fee} 元），共 {amount} 元。"},
    "wrong_item": {"rule": "wrong_item_full_value", "basis": "item_value", "share": "1.00",
                   "en": "Wrong item instead of {traceability_code}: {share_pct}% of the ordered item's value "
                         "{item_value} CNY = {amount} CNY.",
                   "zh": "错发商品 {traceability_code}：按所订商品价值 {item_value} 元的 {share_pct}% 赔付 {amount} 元。"},
    "shipping_anomaly": {"rule": "shipping_anomaly_half_fee", "basis": "shipping_fee", "share": "0.50",
                         "en": "Shipping anomaly: {share_pct}% of the shipping fee {shipping_fee} CNY = {amount} CNY.",
                         "zh": "运输异常：按运费 {shipping_fee} 元的 {share_pct}% 赔付 {amount} 元。"},
}
_INSURED = {"rule": "{kind}_insured_value_plus_freight", "basis": "insured_value_plus_shipping_fee", "share": "1.00",
            "en": "Insured parcel, {kind}: the insured value {insured_value} CNY plus the freight {shipping_fee} "
                  "CNY, capped at {cap} CNY = {amount} CNY.",
            "zh": "已投保包裹（{kind}）：保价金额 {insured_value} 元加运费 {shipping_fee} 元，上限 {cap} 元，"
                  "赔付 {amount} 元。"}


def _route_standard(kind: str, share: str, en: str, zh: str) -> dict[str, str]:
    return {"rule": f"{kind}_route_standard", "basis": "route_standard", "share": share,
            "en": f"Uninsured parcel, {en}: the {{line_code}} line's standard {{per_kg}} CNY per kg × "
                  f"{{chargeable_weight_kg}} kg, capped at {{cap}} CNY, {{share_pct}}% paid = {{amount}} CNY.",
            "zh": f"未投保包裹（{zh}）：{{line_code}} 线路标准赔付每公斤 {{per_kg}} 元 × {{chargeable_weight_kg}} "
                  f"公斤，上限 {{cap}} 元，按 {{share_pct}}% 赔付 {{amount}} 元。"}


RULE_BOOK: dict[str, dict[str, Any]] = {
    "compensation-2026.11": {"currency": "CNY", "kinds": dict(_ITEM_RULES)},
    "compensation-2026.12": {
        "currency": "CNY",
        "insured_cap": "10000.00",
        # Per shipping line, for uninsured parcels: CNY per chargeable kg, capped per parcel.
        "route_standard": {
            "economy-air": {"per_kg": "40.00", "cap": "400.00"},
            "sensitive-air": {"per_kg": "50.00", "cap": "500.00"},
            "express": {"per_kg": "80.00", "cap": "800.00"},
            "sea-freight": {"per_kg": "20.00", "cap": "300.00"},
        },
        "kinds": {
            **_ITEM_RULES,
            "damaged": {"insured": {**_INSURED, "basis": "item_value_plus_shipping_share", "rule": "damaged_insured",
                                    "en": "Insured parcel, damaged item {traceability_code}: its value {item_value} "
                                          "CNY plus its share {shipping_share} CNY of the freight = {amount} CNY.",
                                    "zh": "已投保包裹，商品 {traceability_code} 破损：商品价值 {item_value} 元加分摊运费 "
                                          "{shipping_share} 元，赔付 {amount} 元。"},
                        "uninsured": _ITEM_RULES["damaged"]},
            "lost": {"insured": _INSURED,
                     "uninsured": _route_standard("lost", "1.00", "lost", "丢失")},
            "seized": {"insured": _INSURED,
                       "uninsured": _route_standard("seized", "0.50", "seized by customs", "海关扣押")},
            "returned_by_customs": {"rule": "returned_by_customs_freight_back", "basis": "shipping_fee",
                                    "share": "1.00",
                                    "en": "Returned by customs: the freight {shipping_fee} CNY is paid back "
                                          "({share_pct}%) = {amount} CNY.",
                                    "zh": "海关退运：退还运费 {shipping_fee} 元的 {share_pct}%，共 {amount} 元。"},
            "delayed": {"rule": "delayed_over_60_days", "basis": "shipping_fee", "share": "0.30",
                        "en": "Undelivered 60 days after dispatch: {share_pct}% of the freight {shipping_fee} CNY "
                              "= {amount} CNY.",
                        "zh": "发货后 60 天仍未送达：按运费 {shipping_fee} 元的 {share_pct}% 赔付 {amount} 元。"},
            "return_refund": {"rule": "return_merchant_refund_less_postage",
                              "basis": "merchant_refund_less_return_postage", "share": "1.00",
                              "en": "Returned to the merchant: the merchant refunded {merchant_refund} CNY, less "
                                    "the return postage {return_postage} CNY = {amount} CNY.",
                              "zh": "退回商家：商家退款 {merchant_refund} 元，扣除退货运费 {return_postage} 元，"
                                    "共 {amount} 元。"},
            "never_arrived": {"rule": "never_arrived_full_refund", "basis": "line_price_plus_service_fee_share",
                              "share": "1.00",
                              "en": "Never reached our warehouse: the line's price {line_amount} CNY plus its share "
                                    "{service_fee_share} CNY of the service fee = {amount} CNY.",
                              "zh": "商品未到达仓库：退还商品价格 {line_amount} 元及分摊服务费 {service_fee_share} 元，"
                                    "共 {amount} 元。"},
            "purchase_late": {"rule": "purchase_sla_service_fee_back", "basis": "service_fee", "share": "1.00",
                              "en": "Not purchased within 24 hours of payment: the service fee {service_fee} CNY "
                                    "is credited ({share_pct}%) = {amount} CNY.",
                              "zh": "付款后 24 小时内未完成采购：退还服务费 {service_fee} 元的 {share_pct}%，"
                                    "共 {amount} 元。"},
        },
    },
}
# 2027.01: 2026.12 plus the refund of an item returned from abroad, decided at its inspection.
RULE_BOOK["compensation-2027.01"] = {**RULE_BOOK["compensation-2026.12"], "kinds": {
    **RULE_BOOK["compensation-2026.12"]["kinds"],
    "abroad_return_refund": {
        "rule": "abroad_return_value_less_condition_plus_postage", "basis": "returned_item", "share": "1.00",
        "en": "Returned from abroad and inspected ({condition}): the item's value {item_value} CNY, less "
              "{deducted} CNY for its condition, plus {return_postage_refunded} CNY of return postage = {amount} CNY.",
        "zh": "海外退货已验收（{condition}）：商品价值 {item_value} 元，因商品状况扣除 {deducted} 元，"
              "加退还运费 {return_postage_refunded} 元，共 {amount} 元。"},
}}
RULES_VERSION = "compensation-2027.01"  # the version new decisions use
REJECTED = {"rule": "rejected", "en": "Claim rejected: no compensation.", "zh": "申请未获批准：不予赔付。"}
# A counterfeit is refunded in full from claims.CounterfeitConfirmed; its claim pays nothing more.
COUNTERFEIT = {"rule": "counterfeit_refunded_in_full", "en": "Counterfeit confirmed: refunded in full "
               "({refund_amount} CNY) and the merchant blocked; nothing more is paid on this claim.",
               "zh": "确认为假货：已全额退款（{refund_amount} 元）并封禁商家；本申请不再另行赔付。"}


class Compensation(NamedTuple):
    amount: Decimal
    rule: str
    rule_version: str
    inputs: dict[str, str]
    explanation_en: str
    explanation_zh: str


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent(share: Decimal) -> str:
    value = share * 100
    return str(value.to_integral()) if value == value.to_integral() else str(value.normalize())


def _fact(facts: Mapping[str, str], name: str) -> Decimal:
    if name not in facts:
        raise Conflict(f"the claim's {name.replace('_', ' ')} is not known yet; decide it a little later")
    return Decimal(facts[name])


def rule_for(book: Mapping[str, Any], kind: str, insured: bool) -> dict[str, str]:
    entry = book["kinds"].get(kind)
    if entry is None:
        raise ValueError(f"no compensation rule for claims of kind {kind!r}")
    if "insured" in entry:
        return entry["insured" if insured else "uninsured"]
    return entry


def _base(book: Mapping[str, Any], basis: str, facts: Mapping[str, str], derived: dict[str, str]) -> Decimal:
    if basis in ("item_value", "shipping_fee", "service_fee"):
        return _fact(facts, basis)
    if basis == "item_value_plus_shipping_share":
        item, parcel, fee = (_fact(facts, n) for n in ("item_value", "parcel_value", "shipping_fee"))
        share = money(fee * item / parcel) if parcel > 0 else Decimal("0.00")
        derived["shipping_share"] = str(share)
        return item + share
    if basis == "line_price_plus_service_fee_share":
        line, total, fee = (_fact(facts, n) for n in ("line_amount", "items_total", "service_fee"))
        share = money(fee * line / total) if total > 0 else Decimal("0.00")
        derived["service_fee_share"] = str(share)
        return line + share
    if basis == "merchant_refund_less_return_postage":
        return max(_fact(facts, "merchant_refund") - _fact(facts, "return_postage"), Decimal("0"))
    if basis == "returned_item":
        item = _fact(facts, "item_value")
        deducted = money(item * _fact(facts, "condition_deduction"))
        derived["deducted"] = str(deducted)
        return item - deducted + _fact(facts, "return_postage_refunded")
    if basis == "insured_value_plus_shipping_fee":
        cap = Decimal(book["insured_cap"])
        derived["cap"] = str(cap)
        return min(_fact(facts, "insured_value") + _fact(facts, "shipping_fee"), cap)
    if basis == "route_standard":
        line = book["route_standard"].get(facts.get("line_code", ""))
        if line is None:
            raise Conflict(f"no route-standard compensation for shipping line {facts.get('line_code')!r}")
        derived.update(per_kg=line["per_kg"], cap=line["cap"])
        return min(Decimal(line["per_kg"]) * _fact(facts, "chargeable_weight_kg"), Decimal(line["cap"]))
    raise ValueError(f"unknown compensation basis {basis!r}")


def evaluate(version: str, facts: Mapping[str, str]) -> Compensation:
    """The compensation for a claim's facts under one rule version (pure). Facts hold at least
    `kind` and `approved` ("true"/"false"), `insured` where the kind depends on it, and the
    values its basis needs."""
    book = RULE_BOOK[version]
    inputs = dict(facts)
    if inputs.get("approved") != "true":
        return Compensation(Decimal("0.00"), REJECTED["rule"], version, inputs, REJECTED["en"], REJECTED["zh"])
    if inputs.get("counterfeit") == "true":
        words = defaultdict(str, inputs)
        return Compensation(Decimal("0.00"), COUNTERFEIT["rule"], version, inputs,
                            COUNTERFEIT["en"].format_map(words), COUNTERFEIT["zh"].format_map(words))
    kind = inputs["kind"]
    rule = rule_for(book, kind, inputs.get("insured") == "true")
    derived: dict[str, str] = {}
    share = Decimal(rule["share"])
    amount = money(_base(book, rule["basis"], inputs, derived) * share)
    if "already_paid" in inputs:  # a changed decision pays what it adds to what was paid before
        derived["total"] = str(amount)
        amount = max(amount - Decimal(inputs["already_paid"]), Decimal("0.00"))
    words = defaultdict(str, {**inputs, **derived, "amount": derived.get("total", str(amount)), "kind": kind,
                              "share_pct": percent(share)})
    english, chinese = rule["en"].format_map(words), rule["zh"].format_map(words)
    if "already_paid" in inputs:
        english += f" Already paid {inputs['already_paid']} CNY; this decision adds {amount} CNY."
        chinese += f" 已赔付 {inputs['already_paid']} 元，本次补付 {amount} 元。"
    return Compensation(amount, rule["rule"].format_map(words), version, {**inputs, **derived}, english, chinese)


def published_rules() -> dict[str, Any]:
    """What `GET /rules/compensation` shows: every version, the current one named."""
    return {"current_version": RULES_VERSION, "currency": "CNY", "versions": RULE_BOOK}
