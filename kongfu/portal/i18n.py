"""The portal's words in English and Chinese, and which language a visitor gets (pure)."""

from __future__ import annotations

LANGUAGES = ("en", "zh")

TEXT: dict[str, tuple[str, str]] = {
    "site": ("KongfuMall", "功夫商城"),
    "skip": ("Skip to content", "跳到正文"),
    "nav": ("Main", "主菜单"),
    "orders": ("My orders", "我的订单"),
    "warehouse": ("My warehouse", "我的仓库"),
    "parcels": ("My parcels", "我的包裹"),
    "claims": ("Claims", "售后申请"),
    "rules": ("Rules", "规则"),
    "sign_in": ("Sign in", "登录"),
    "sign_out": ("Sign out", "退出"),
    "customer_id": ("Customer id", "客户编号"),
    "dev_sign_in": ("Development sign-in: a token for this customer id is issued by the platform's "
                    "development secret.", "开发环境登录：平台用开发密钥为该客户编号签发令牌。"),
    "language": ("Language", "语言"),
    "order": ("Order", "订单"),
    "placed": ("Placed", "下单时间"),
    "status": ("Status", "状态"),
    "total": ("Total", "合计"),
    "next_action": ("Next step", "下一步"),
    "nothing_to_do": ("Nothing for you to do: we are on it.", "无需操作，我们正在处理。"),
    "timeline": ("Tracking timeline", "物流追踪"),
    "open_timeline": ("Open the tracking timeline", "查看物流追踪"),
    "no_orders": ("You have no orders yet.", "您还没有订单。"),
    "next_page": ("Next page", "下一页"),
    "current_stage": ("current stage", "当前阶段"),
    "place": ("Place", "地点"),
    "photos": ("QC photos", "质检照片"),
    "photo_alt": ("Quality-control photo {n} of item {code}", "商品 {code} 的第 {n} 张质检照片"),
    "items": ("Items", "商品"),
    "code": ("Traceability code", "溯源码"),
    "item": ("Item", "商品"),
    "state": ("State", "状态"),
    "location": ("Shelf", "货架"),
    "storage": ("Storage", "仓储"),
    "days_used": ("{days} days stored, {left} free days left", "已存 {days} 天，免费期剩余 {left} 天"),
    "fees_due": ("Storage fees due: {fees} {currency}", "应付仓储费：{fees} {currency}"),
    "select_item": ("Ship item {code}", "发运商品 {code}"),
    "destination": ("Destination country (ISO code)", "目的国家（ISO 代码）"),
    "request_shipment": ("Request shipment", "申请发货"),
    "no_items": ("Nothing in the warehouse yet.", "仓库里还没有商品。"),
    "choose_items": ("Choose at least one stored item.", "请至少选择一件在库商品。"),
    "parcel": ("Parcel", "包裹"),
    "no_parcels": ("No parcels yet.", "还没有包裹。"),
    "open_parcel": ("Quotes, payment and tracking", "报价、支付与追踪"),
    "quotes": ("Shipping quotes", "运费报价"),
    "quotes_pending": ("The parcel is being packed; quotes appear once it is weighed.",
                       "包裹正在打包，称重后显示报价。"),
    "line": ("Line", "线路"),
    "price": ("Price", "价格"),
    "chargeable_weight": ("Chargeable (volumetric) weight", "计费（体积）重量"),
    "transit": ("Delivery time", "时效"),
    "transit_days": ("{min}–{max} days", "{min}–{max} 天"),
    "restrictions": ("Restrictions", "限制"),
    "refused": ("Not available for this parcel", "此包裹不可用"),
    "pay_method": ("Payment method", "支付方式"),
    "pay_line": ("Choose {line} ({price} CNY)", "选择 {line}（{price} 元）"),
    "extra_charges": ("Billed with the line you choose", "与所选线路一并收取"),
    "bill": ("Your shipping bill", "运费账单"),
    "bill_total": ("Total", "合计"),
    "pay_bill": ("Pay {total} CNY", "支付 {total} 元"),
    "method_card": ("Card (Stripe)", "银行卡（Stripe）"),
    "method_balance": ("My balance", "账户余额"),
    "card_token": ("Card token from Stripe's card fields", "Stripe 卡片表单返回的令牌"),
    "dev_payment": ("Development: the card token is a Stripe test token; card numbers never reach us.",
                    "开发环境：卡片令牌为 Stripe 测试令牌；卡号从不经过平台。"),
    "payment_pending": ("Payment sent; waiting for the provider's confirmation.", "已提交支付，等待支付机构确认。"),
    "paid": ("Shipping paid: {line}, {amount} {currency}", "运费已支付：{line}，{amount} {currency}"),
    "tracking": ("Tracking", "追踪"),
    "carrier": ("Carrier", "承运商"),
    "no_claims": ("No claims.", "没有售后申请。"),
    "open_claim": ("Open a claim", "提交售后申请"),
    "kind": ("What happened", "问题类型"),
    "description": ("Description", "描述"),
    "evidence": ("Evidence photo links (one per line)", "证据照片链接（每行一个）"),
    "submit_claim": ("Submit the claim", "提交申请"),
    "decision": ("Decision", "处理结果"),
    "awaiting_decision": ("Awaiting a decision", "等待处理"),
    "approved": ("Approved: {amount} {currency}", "已批准：{amount} {currency}"),
    "rejected": ("Rejected", "已拒绝"),
    "reason": ("Reason", "原因"),
    "rule": ("Rule", "规则"),
    "not_found": ("Page not found", "页面不存在"),
    "not_found_text": ("There is nothing here for you.", "这里没有您可以查看的内容。"),
    "error": ("Something went wrong", "出错了"),
    "back_home": ("Back to my orders", "返回我的订单"),
    "rules_lines": ("Shipping lines", "运输线路"),
    "rules_restricted": ("Restricted items", "限运物品"),
    "rules_fees": ("Fees", "费用"),
    "rules_compensation": ("Compensation", "赔偿"),
    "rules_returns": ("Returns and exchanges", "退换货"),
    "rules_storage": ("Storage: {free} days free, then {fee} {currency} per item per day; reminders at "
                      "{reminders} days; items not shipped after {abandon} days are abandoned.",
                      "仓储：免费 {free} 天，之后每件每天 {fee} {currency}；第 {reminders} 天提醒；"
                      "{abandon} 天未发运视为弃置。"),
    "rules_disposal": ("Abandoned items are donated when usable, otherwise disposed of; you are told at "
                       "each step.", "弃置商品可用的捐赠，其余处置；每一步都会通知您。"),
    "rules_returns_text": ("After a failed inspection you choose: repurchase, return to the merchant, or a "
                           "refund. After delivery, open a claim for damage, missing or wrong items, or a "
                           "shipping anomaly.",
                           "质检不合格时，您可选择重新采购、退回商家或退款。收货后，可就破损、少件、错发或运输异常提交售后申请。"),
    "rules_compensation_text": ("Damaged or wrong item: its full value. Missing item: its value. Shipping "
                                "anomaly: {rate}% of the shipping fee. Rules version {version}.",
                                "商品破损或错发：全额赔偿。少件：按商品价值赔偿。运输异常：运费的 {rate}%。规则版本 {version}。"),
    "rules_fees_text": ("The order quote shows goods, service fee and taxes before you pay; shipping is "
                        "quoted per parcel by chargeable weight; no other charges.",
                        "下单报价在付款前列明商品、服务费与税费；运费按包裹计费重量报价；无其他费用。"),
}

CLAIM_KINDS = {"damaged": ("Damaged item", "商品破损"), "missing_item": ("Missing item", "少件"),
               "wrong_item": ("Wrong item", "错发"), "shipping_anomaly": ("Shipping anomaly", "运输异常")}


def translate(key: str, language: str, **values: object) -> str:
    english, chinese = TEXT[key]
    return (chinese if language == "zh" else english).format(**values)


def choose(english_chinese: tuple[str, str], language: str) -> str:
    return english_chinese[1] if language == "zh" else english_chinese[0]


def language_for(chosen: str | None, accept_language: str | None) -> str:
    """An explicit choice wins; otherwise the browser's most preferred of ours; English by default."""
    if chosen in LANGUAGES:
        return chosen
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        base = tag.split("-")[0]
        if base in LANGUAGES:
            return base
    return "en"
