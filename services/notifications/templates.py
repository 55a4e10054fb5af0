"""What each notification says, in English and Chinese (pure). Placeholders come from the
event's payload; nothing internal (agent ids, references) is put in front of customers."""

from __future__ import annotations

from typing import Any

# kind → ((subject, body) in English, (subject, body) in Chinese)
TEMPLATES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "price_changed": (
        ("Price change on your order: your decision is needed",
         "The merchant changed the price of line {line_no} from {old_unit_price} to {new_unit_price} CNY. "
         "Accept the new price or cancel the line in your orders."),
        ("订单价格变动，需要您确认",
         "商家将第 {line_no} 行商品单价由 {old_unit_price} 元调整为 {new_unit_price} 元。请在订单中接受新价格或取消该商品。")),
    "qc_failed": (
        ("Quality inspection found a problem",
         "Item {traceability_code} did not pass inspection: {issues}. Photos: {photos}. "
         "Choose a repurchase, a return to the merchant or a refund."),
        ("质检发现问题",
         "商品 {traceability_code} 未通过质检：{issues}。照片：{photos}。请选择重新采购、退回商家或退款。")),
    "order_held": (
        ("Your order is on hold", "We put your order on hold: {reasons}. Our team will contact you."),
        ("您的订单已暂停", "您的订单已暂停：{reasons}。我们的团队会与您联系。")),
    "parcel_shipped": (
        ("Your parcel is on its way", "Your parcel left our warehouse with {carrier}, tracking number "
                                      "{tracking_number}."),
        ("您的包裹已发出", "您的包裹已由 {carrier} 发出，运单号 {tracking_number}。")),
    "customs_hold": (
        ("Your parcel is held", "The carrier reports a problem with your parcel at {location}. We are on it."),
        ("您的包裹被扣留", "承运商报告您的包裹在 {location} 出现问题，我们正在处理。")),
    "delivered": (
        ("Your parcel was delivered", "Your parcel was delivered ({location}). Please confirm receipt."),
        ("您的包裹已送达", "您的包裹已送达（{location}）。请确认收货。")),
    "claim_decided": (
        ("Your claim was decided", "Decision: {outcome}. Amount: {amount} {currency}. Rule: {rule} ({rule_version})."),
        ("您的售后申请已处理", "处理结果：{outcome}。金额：{amount} {currency}。规则：{rule}（{rule_version}）。")),
    "storage_reminder": (
        ("Storage reminder: {days_stored} days", "Item {traceability_code} has been in our warehouse for "
         "{days_stored} days. Storage is free for 90 days, then 1.00 CNY a day per item; items not shipped "
         "within 180 days are abandoned. Request shipment to avoid fees."),
        ("仓储提醒：已存放 {days_stored} 天", "商品 {traceability_code} 已在仓库存放 {days_stored} 天。免费存放 90 天，"
         "之后每件每天 1.00 元；180 天内未发运的商品视为弃置。请尽快申请发货以免产生费用。")),
    "storage_abandoned": (
        ("Item abandoned after {days_stored} days", "Item {traceability_code} was not shipped within 180 days and "
         "is now abandoned: usable goods are donated to charity, the rest disposed of. Storage fees due: "
         "{fees_due} {currency}."),
        ("商品存放 {days_stored} 天后视为弃置", "商品 {traceability_code} 在 180 天内未发运，现视为弃置：可用物品将捐赠给慈善机构，"
         "其余将被处置。应付仓储费：{fees_due} {currency}。")),
    "survey_offered": (
        ("How did we do?", "Please rate your {about_en} from 1 to 5: it takes a minute and helps us improve. "
                           "Your open surveys are in your account."),
        ("请为我们的服务评分", "请为您的{about_zh}打分（1-5 分），只需一分钟，帮助我们改进。待评价的问卷在您的账户中。")),
}
SURVEY_SUBJECTS = {"receipt": ("delivery", "收货体验"), "claim": ("claim's handling", "售后申请处理"),
                   "ticket": ("support ticket", "售后工单服务")}
OUTCOMES = {True: ("approved", "已批准"), False: ("rejected", "已拒绝")}


def render(kind: str, language: str, values: dict[str, Any]) -> tuple[str, str]:
    english, chinese = TEMPLATES[kind]
    subject, body = chinese if language == "zh" else english
    shown = {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in values.items()}
    if "about" in values:  # what a survey asks about, in the customer's language
        shown["about_en"], shown["about_zh"] = SURVEY_SUBJECTS.get(values["about"], (values["about"],) * 2)
    if "approved" in values:
        shown["outcome"] = OUTCOMES[bool(values["approved"])][1 if language == "zh" else 0]
    return subject.format(**shown), body.format(**shown)
