"""The catalogue of domain errors customers meet, by code, in English and Chinese: one place.

Domain code raises a `DomainError` with its English sentence; the gateway finds the sentence's
entry here (each English text is a template whose `{placeholders}` stand for the values the raise
site puts in), answers `code` in the problem body, and the `detail` in the caller's language
(Accept-Language). tests/unit/test_error_catalogue.py reads every raise site of the
customer-facing modules and fails when one has no entry here, or an entry lacks either language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# code, English template, Chinese template (the same placeholders)
ENTRIES: tuple[tuple[str, str, str], ...] = (
    # orders
    ("order_not_found", "order {order_id} not found", "未找到订单 {order_id}"),
    ("order_not_yet_at_payments", "order {order_id} not found (a just-placed order reaches payments within moments)",
     "未找到订单 {order_id}（刚下的订单稍后即可支付）"),
    ("order_line_unknown", "order {order_id} has no line {line_no}", "订单 {order_id} 没有第 {line_no} 行"),
    ("order_needs_items", "an order needs at least one item", "订单至少需要一件商品"),
    ("screening_line_not_held", "line {line_no} of order {order_id} is not waiting for a compliance review",
     "订单 {order_id} 的第 {line_no} 行不在合规审核中"),
    ("screening_order_unpaid", "order {order_id} is not paid yet: a held line is decided once the order is paid",
     "订单 {order_id} 尚未支付：审核中的商品行需在付款后再作决定"),
    ("order_lines_refused", "the order cannot be placed: {summary}", "订单无法提交：{summary}"),
    ("order_hold_needs_payment", "an unpaid order cannot be put on hold by payment review",
     "未付款的订单不能被支付审核暂停"),
    ("no_pending_decision", "no decision is pending for line {line_no}", "第 {line_no} 行没有待您决定的事项"),
    ("choice_not_offered", "for a {question} the choices are {choices}", "对于{question}，可选项为 {choices}"),
    ("new_price_payment_exact", "accepting the new price needs a payment of exactly {difference} CNY",
     "接受新价格需要恰好支付 {difference} 元人民币"),
    ("link_not_http", "'{url}' is not an http(s) product link; supported marketplaces: {supported}",
     "“{url}”不是 http(s) 商品链接；支持的平台：{supported}"),
    ("marketplace_unsupported", "'{host}' is not a supported marketplace; supported: {supported}",
     "“{host}”不是支持的平台；支持：{supported}"),
    ("item_id_missing", "no {platform} item id found in '{url}'", "在“{url}”中找不到 {platform} 商品编号"),
    ("destination_unsupported", "we do not ship to '{country}' yet; destinations: {destinations}",
     "我们暂不发往“{country}”；可选目的地：{destinations}"),
    ("orders_listing_role", "listing orders needs the customer role or one of {roles}",
     "查看订单列表需要客户角色或以下角色之一：{roles}"),
    # warehouse
    ("item_not_found", "no item with traceability code {code}", "没有追溯码为 {code} 的商品"),
    ("code_malformed", "'{text}' is not a traceability code: {shape}", "“{text}”不是追溯码：{shape}"),
    ("code_characters", "'{text}' is not a traceability code: {characters} cannot appear; {shape}",
     "“{text}”不是追溯码：不能出现 {characters}；{shape}"),
    ("code_check_character", "{code}: the check character is wrong, so the code was mistyped; please check every "
     "character and enter it again", "{code}：校验字符不正确，追溯码输入有误；请逐个字符核对后重新输入"),
    ("codes_repeated", "list each traceability code once", "每个追溯码只能列出一次"),
    ("parcel_not_found", "parcel {parcel_id} not found", "未找到包裹 {parcel_id}"),
    ("item_not_order_line", "item {code} is not line {line_no} of order {order_id}",
     "商品 {code} 不是订单 {order_id} 的第 {line_no} 行"),
    ("no_free_code", "no free traceability code for inbound parcel {inbound}", "入库包裹 {inbound} 没有可用的追溯码"),
    ("tracking_number_format", "a tracking number has letters and digits only (spaces and dashes are ignored)",
     "运单号只包含字母和数字（空格和短横线会被忽略）"),
    ("inbound_already_received", "parcel {tracking_number} was already received", "包裹 {tracking_number} 已签收入库"),
    ("inbound_waiting_unmatched", "parcel {tracking_number} was already received; it waits in the unmatched queue",
     "包裹 {tracking_number} 已签收，正在待匹配队列中等待"),
    ("special_inspection_category", "special inspection is for high-risk categories ({categories}); item {code} is "
     "{category}", "特殊查验仅适用于高风险品类（{categories}）；商品 {code} 属于 {category}"),
    ("special_inspection_recorded", "item {code} already has a special-inspection record", "商品 {code} 已有特殊查验记录"),
    ("item_already_inspected", "item {code} was already inspected", "商品 {code} 已完成质检"),
    ("inspection_photos", "an inspection needs at least {count} different photos", "质检至少需要 {count} 张不同的照片"),
    ("store_before_inspection", "item {code} can be stored only after it passed quality inspection (it is {status})",
     "商品 {code} 须通过质检后才能上架（当前：{status}）"),
    ("item_already_stored", "item {code} is already stored at {location}", "商品 {code} 已存放于 {location}"),
    ("item_recalled", "item {code} is held: its batch was recalled ({reason})", "商品 {code} 已被扣留：其批次被召回（{reason}）"),
    ("item_never_packed", "the customer chose {resolution} for item {code}; it can never be packed",
     "客户已为商品 {code} 选择了 {resolution}；该商品不能打包"),
    ("item_already_requested", "item {code} is already in a shipment request", "商品 {code} 已在一个发货申请中"),
    ("item_not_stored", "item {code} is not stored yet (it is {status})", "商品 {code} 尚未上架（当前：{status}）"),
    ("parcel_already_packed", "parcel {parcel_id} is already packed", "包裹 {parcel_id} 已打包"),
    ("photo_not_found", "no photo {digest} of item {code}", "商品 {code} 没有照片 {digest}"),
    ("photo_not_uploaded", "photo {photo} was not uploaded for item {code}; upload it first",
     "照片 {photo} 不是为商品 {code} 上传的；请先上传"),
    ("photo_too_large", "a photo may be at most {size} MiB", "照片不能超过 {size} MiB"),
    ("photo_not_image", "a photo must be a JPEG or PNG file", "照片必须是 JPEG 或 PNG 文件"),
    ("parcel_measures_positive", "weight and dimensions must be greater than zero", "重量和尺寸必须大于零"),
    # logistics
    ("no_parcel_for_tracking", "no parcel was handed to {carrier} as {tracking_number}",
     "没有以 {tracking_number} 交给 {carrier} 的包裹"),
    ("tracking_number_taken", "{carrier} tracking number {tracking_number} belongs to another parcel",
     "{carrier} 运单号 {tracking_number} 属于另一个包裹"),
    ("insurance_decided", "insurance for parcel {parcel_id} was already {decision}", "包裹 {parcel_id} 的保险已{decision}"),
    ("insurance_after_handover", "parcel {parcel_id} is already with the carrier; insurance is offered until handover",
     "包裹 {parcel_id} 已交给承运商；保险只能在交运前购买"),
    ("shipping_already_paid", "shipping for parcel {parcel_id} is already paid ({line_code})",
     "包裹 {parcel_id} 的运费已支付（{line_code}）"),
    ("shipping_billed_before_insurance", "shipping for parcel {parcel_id} is already billed; insurance is chosen "
     "before the shipping line, so its premium is on the same bill",
     "包裹 {parcel_id} 的运费已出账；保险需在选择线路前购买，保费列入同一账单"),
    ("shipping_already_billed", "shipping for parcel {parcel_id} is already billed ({line_code}, {total} CNY): "
     "pay it at POST /payments/shipping/{parcel}",
     "包裹 {parcel_id} 的运费已出账（{line_code}，{total} 元）：请在 POST /payments/shipping/{parcel} 支付"),
    ("shipping_payment_mismatch", "payment {payment_id} of {amount} CNY does not settle parcel {parcel_id}'s bill",
     "支付 {payment_id} 的 {amount} 元与包裹 {parcel_id} 的账单不符"),
    ("price_difference_mismatch", "payment {payment_id} of {amount} CNY does not settle line {line_no}'s "
     "difference of {difference} CNY", "支付 {payment_id} 的 {amount} 元与第 {line_no} 行的差价 {difference} 元不符"),
    ("bill_not_found", "no {purpose} bill for {reference} (a just-issued bill reaches payments within moments)",
     "没有 {reference} 的{purpose}账单（新出的账单片刻后才到达支付服务）"),
    ("bill_already_paid", "the {bill} is already paid (payment {payment_id}); nothing was charged again",
     "{bill}已支付（支付 {payment_id}）；未再次扣款"),
    ("bill_payment_pending", "a payment of the {bill} is pending (payment {payment_id}); wait for its outcome "
     "before paying again", "{bill}有一笔支付正在处理（支付 {payment_id}）；请等待结果后再支付"),
    ("shipping_line_unknown", "there is no shipping line '{line_code}'; lines: {lines}",
     "没有“{line_code}”这条运输线路；可选线路：{lines}"),
    ("shipping_amount_mismatch", "the amount {amount} CNY does not match the price of {line} for this parcel, {price} CNY",
     "金额 {amount} 元与该包裹 {line} 的价格 {price} 元不符"),
    ("parcel_handed_over", "parcel {parcel_id} was already handed to {carrier}", "包裹 {parcel_id} 已交给 {carrier}"),
    ("parcel_handed_over_as", "parcel {parcel_id} was already handed to {carrier} as {tracking_number}",
     "包裹 {parcel_id} 已以运单号 {tracking_number} 交给 {carrier}"),
    ("declaration_items", "the declaration must list every item of parcel {parcel_id} once; {problems}",
     "申报必须将包裹 {parcel_id} 的每件商品各列一次；{problems}"),
    ("personalised_warning", "a personalised declaration needs the warning accepted: {warning}",
     "自定义申报需要先接受以下提示：{warning}"),
    ("declaration_unknown_items", "not in this parcel: {codes}", "不在此包裹中：{codes}"),
    ("declaration_currency", "no published rate for {currencies}; currencies: {known}",
     "没有 {currencies} 的公布汇率；可用币种：{known}"),
    ("shipping_not_paid", "shipping for parcel {parcel_id} has not been paid yet", "包裹 {parcel_id} 的运费尚未支付"),
    ("declaration_missing", "parcel {parcel_id} has no customs declaration yet", "包裹 {parcel_id} 尚无报关申报"),
    ("parcel_not_handed_over", "parcel {parcel_id} has not been handed to a carrier yet", "包裹 {parcel_id} 尚未交给承运商"),
    ("parcel_not_delivered", "parcel {parcel_id} has not been delivered yet; confirm receipt once it arrives",
     "包裹 {parcel_id} 尚未送达；到货后再确认收货"),
    # payments
    ("payment_token_required", "paying by {method} needs the provider's payment token (never card data)",
     "使用 {method} 支付需要支付服务商的支付令牌（切勿提交卡号信息）"),
    ("payment_method_unavailable", "payment method '{method}' is not available; methods: {methods}, balance",
     "支付方式“{method}”不可用；可用方式：{methods}、余额"),
    ("payment_still_submitting", "this payment is still being submitted to the provider; repeat the request "
     "(with the same Idempotency-Key) in a few seconds",
     "此支付仍在提交给支付服务商；请在几秒后（使用同一个 Idempotency-Key）重新发送请求"),
    ("payment_unknown", "no payment {payment_id}", "没有支付 {payment_id}"),
    ("payment_not_found", "payment {payment_id} not found", "未找到支付 {payment_id}"),
    ("balance_withdrawal", "your balance is {balance} CNY; {amount} CNY cannot be withdrawn",
     "您的余额为 {balance} 元；无法提现 {amount} 元"),
    ("balance_insufficient", "your balance is {balance} CNY; {amount} CNY is needed", "您的余额为 {balance} 元；需要 {amount} 元"),
    ("card_refund_limit", "more than was ever paid by card cannot go back to a card", "退回银行卡的金额不能超过用卡支付的金额"),
    ("credit_positive", "a credit must be a positive amount", "入账金额必须为正数"),
    ("debit_positive", "a debit must be a positive amount", "扣款金额必须为正数"),
    ("balance_never_negative", "the balance can never go negative", "余额不能为负数"),
    ("payment_nothing_to_capture", "payment {payment_id} has nothing to capture", "支付 {payment_id} 没有可收款的项目"),
    ("idempotency_key_reused", "this Idempotency-Key was already used with a different request body",
     "此 Idempotency-Key 已用于另一个不同的请求"),
    # claims and support
    ("claim_not_found", "claim {claim_id} not found", "未找到理赔 {claim_id}"),
    ("claim_unknown", "no claim {claim_id}", "没有理赔 {claim_id}"),
    ("claim_self_decision", "a claim cannot be decided by the customer who opened it", "理赔不能由提出它的客户自行裁定"),
    ("claim_decided", "claim {claim_id} was already decided ({status})", "理赔 {claim_id} 已裁定（{status}）"),
    ("claim_not_item", "claim {claim_id} is not an open claim about one item", "理赔 {claim_id} 不是针对单件商品的未结理赔"),
    ("counterfeit_confirmed", "item {code} is already confirmed counterfeit, or its merchant is not known yet",
     "商品 {code} 已被确认为假货，或其商家尚不明确"),
    ("claim_fact_unknown", "the claim's {fact} is not known yet; decide it a little later",
     "该理赔的{fact}尚不明确；请稍后再裁定"),
    ("no_route_compensation", "no route-standard compensation for shipping line {line_code}",
     "运输线路 {line_code} 没有线路标准赔付"),
    ("ticket_not_found", "ticket {ticket_id} not found", "未找到工单 {ticket_id}"),
    ("ticket_self_answer", "a ticket is answered by support, not by the customer who opened it",
     "工单由客服回复，而不是由提出它的客户回复"),
    ("ticket_closed", "ticket {ticket_id} is closed", "工单 {ticket_id} 已关闭"),
    ("line_not_arrived", "line {line_no} of order {order_id} has not arrived at our warehouse yet",
     "订单 {order_id} 的第 {line_no} 行尚未到达我们的仓库"),
    ("return_not_found", "return {return_id} not found", "未找到退货 {return_id}"),
    ("return_not_approved", "return {return_id} is not an approved return ({kind}, {status})",
     "退货 {return_id} 不是已批准的退货（{kind}，{status}）"),
    ("return_refunded_once", "return {return_id} must be shipped back, and is refunded once",
     "退货 {return_id} 必须先寄回，且只退款一次"),
    ("abroad_return_undelivered", "parcel {parcel_id} has not been delivered yet: returns from abroad start at "
     "delivery", "包裹 {parcel_id} 尚未签收：海外退货自签收起方可申请"),
    ("abroad_return_compensated", "item {code} was already compensated by claim {claim_id}",
     "商品 {code} 已由理赔 {claim_id} 赔付"),
    ("abroad_return_exists", "item {code} already has a return from abroad ({return_id})",
     "商品 {code} 已有海外退货申请（{return_id}）"),
    ("abroad_return_no_shipment", "return {return_id} is {status}: no shipment can be registered",
     "退货 {return_id} 当前状态为 {status}：不能登记寄回运单"),
    ("abroad_return_not_on_its_way", "return {return_id} is {status}, not on its way back",
     "退货 {return_id} 当前状态为 {status}，并未在寄回途中"),
    ("abroad_return_receive_first", "return {return_id} must be received at the warehouse before it is inspected",
     "退货 {return_id} 须先由仓库签收才能验货"),
    ("dispute_fact_not_used", "the first decision did not use {fact}; it used {facts}",
     "首次裁定未使用{fact}；其使用的是 {facts}"),
    ("rated_subject_not_found", "{about} {subject_id} not found", "未找到 {about} {subject_id}"),
    ("rating_too_early", "{about} {subject_id} can be rated once it is {when}", "{about} {subject_id} 须在{when}后才能评价"),
    ("rating_given", "{about} {subject_id} was already rated", "{about} {subject_id} 已评价过"),
    ("dispute_before_decision", "a claim can be disputed once it is decided", "理赔裁定后才能提出申诉"),
    ("dispute_once", "this decision was already disputed; a decision is disputed once", "该裁定已申诉过；每个裁定只能申诉一次"),
    ("dispute_too_late", "too late: a decision may be disputed within {days} days; it was decided on {decided_at}, so the "
     "deadline was {deadline}", "已超过期限：裁定须在 {days} 天内申诉；该裁定于 {decided_at} 作出，截止时间为 {deadline}"),
    ("no_dispute_waiting", "this claim has no dispute awaiting review", "该理赔没有待复核的申诉"),
    ("dispute_self_review", "a dispute cannot be reviewed by the customer who raised it", "申诉不能由提出它的客户复核"),
    ("dispute_second_reviewer", "a dispute is reviewed by a second-level reviewer, not by the agent who decided first",
     "申诉由二级复核人处理，而不是由最初裁定的客服处理"),
    ("item_not_in_parcel", "item {code} is not in parcel {parcel_id}", "商品 {code} 不在包裹 {parcel_id} 中"),
    ("carrier_not_reported", "the carrier has not reported parcel {parcel_id} as {kind}", "承运商未报告包裹 {parcel_id} 为{kind}"),
    ("claim_already_open", "claim {claim_id} is already open for this {subject}", "此{subject}已有未结理赔 {claim_id}"),
    ("claim_already_paid", "claim {claim_id} for this {subject} was already approved and compensated",
     "此{subject}的理赔 {claim_id} 已批准并赔付"),
    ("line_has_claim", "line {line_no} already has a claim", "第 {line_no} 行已有理赔"),
    ("line_in_warehouse", "line {line_no} reached our warehouse; claim on the parcel once it is delivered",
     "第 {line_no} 行已到达我们的仓库；请在包裹送达后针对包裹理赔"),
    ("claim_window_event", "{kind} claims open once the parcel is {verb}; it has not been {verb} yet",
     "{kind} 理赔须在包裹{verb}后才能提出；该包裹尚未{verb}"),
    ("claim_window_days", "{kind} claims open {days} days after {event}; this one can be opened from {opens}",
     "{kind} 理赔在{event}后 {days} 天开放；此理赔可从 {opens} 起提出"),
    ("claim_window_closed", "too late: {kind} claims must be opened within {days} days of {event}; this parcel was "
     "{verb} on {at}, so the deadline was {deadline}",
     "已超过期限：{kind} 理赔须在{event}后 {days} 天内提出；该包裹于 {at} {verb}，截止时间为 {deadline}"),
    # notifications
    ("notification_settings_missing", "no notification settings yet", "尚未设置通知偏好"),
)
# Raise sites whose whole message is text from elsewhere (a provider's failure, a line's refusal
# reason, a list of per-item problems): they are worded where that text is made.
DYNAMIC_MESSAGES = frozenset({"'; '.join(implausible)", "error", "offer.reason", "recorded_failure(intent.failure or '')"})

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Entry:
    code: str
    english: str
    chinese: str

    @property
    def shape(self) -> str:
        """The template with its placeholders unnamed (how a raise site's f-string reads)."""
        return PLACEHOLDER.sub("{}", self.english)

    @property
    def literal_length(self) -> int:
        return len(PLACEHOLDER.sub("", self.english))


CATALOGUE: dict[str, Entry] = {code: Entry(code, english, chinese) for code, english, chinese in ENTRIES}


def _pattern(english: str) -> re.Pattern[str]:
    parts, seen, at = [], set(), 0
    for match in PLACEHOLDER.finditer(english):
        parts.append(re.escape(english[at:match.start()]))
        name = match.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        at = match.end()
    parts.append(re.escape(english[at:]))
    return re.compile("".join(parts), re.DOTALL)


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[Entry, re.Pattern[str]]]:
    # The most specific template first: `order {order_id} not found (...)` before `{about} {subject_id} not found`.
    ordered = sorted(CATALOGUE.values(), key=lambda entry: entry.literal_length, reverse=True)
    return [(entry, _pattern(entry.english)) for entry in ordered]


def find(message: str) -> tuple[Entry, dict[str, str]] | None:
    """The entry a raised English message comes from, and the values it was filled with."""
    for entry, pattern in _patterns():
        match = pattern.fullmatch(message)
        if match:
            return entry, match.groupdict()
    return None


def worded(message: str, chinese: bool) -> tuple[str | None, str]:
    """(code, detail in the caller's language) for a raised message; an uncatalogued message is
    answered as raised, without a code."""
    found = find(message)
    if found is None:
        return None, message
    entry, values = found
    return entry.code, entry.chinese.format(**values) if chinese else message
