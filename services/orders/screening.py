"""Screening an order line before anything is bought (versioned data, pure).

Every line's listing title and SKU are checked against prohibited goods, counterfeit indicators,
protected brands sold through channels that do not carry them, and goods a destination country
restricts. A hit on a refusing rule refuses the line and names the rule. A hit on a reviewing rule
(uncertain: a brand name on a marketplace that also carries unauthorised sellers, goods a
destination restricts without prohibiting them) holds the line for a compliance analyst, who
approves it (it is bought) or refuses it (it is refunded). The rules, and which hold and which
refuse, are published at `GET /screening/rules`. Listings blocked by a takedown or a blocked merchant are refused
separately (`services/orders/listings.py`), because they are facts from the log, not text rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RULES_VERSION = "screening-2026.12"  # 2026.11 plus the reviewing rules (holds for an analyst)
REFUSE = "refuse"
REVIEW = "review"
_BRANDS = r"louis ?vuitton|gucci|chanel|herm[eè]s|rolex|prada|dior|cartier|balenciaga|moncler"
_BRANDS_ZH = r"路易威登|古驰|香奈儿|爱马仕|劳力士|普拉达|迪奥"


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str  # prohibited | counterfeit | protected_brand | destination
    reason: str
    patterns: tuple[str, ...]  # regular expressions, matched case-insensitively
    countries: tuple[str, ...] = ()  # destination rules only: where the goods are restricted
    platforms: tuple[str, ...] = ()  # protected-brand rules only: channels that do not sell the genuine brand
    action: str = REFUSE  # refuse the line, or hold it for a compliance analyst's review
    reason_zh: str = ""  # what the customer reads in Chinese while a line is held


RULES = (
    Rule("prohibited-weapons", "prohibited", "weapons, their parts and ammunition are never bought or shipped",
         (r"\b(?:gun|pistol|rifle|airsoft|crossbow|taser|stun ?gun|ammunition|bullets?|switchblade|"
          r"knuckle ?dusters?)\b", r"枪|弩|电击器|子弹|弹药|甩棍")),
    Rule("prohibited-drugs", "prohibited", "drugs, their precursors and paraphernalia are never bought or shipped",
         (r"\b(?:cannabis|marijuana|thc|cbd oil|kratom|cocaine|poppy seeds? pods?)\b", r"大麻|罂粟|摇头丸")),
    Rule("prohibited-counterfeit-currency", "prohibited", "counterfeit money and documents are never bought",
         (r"\b(?:prop money|fake (?:passport|id|licen[cs]e|banknotes?))\b", r"假币|假证")),
    Rule("counterfeit-indicator", "counterfeit",
         "the listing describes itself as a copy of a brand (zero tolerance for counterfeits)",
         (r"\breplicas?\b", r"\bfake\b", r"(?<![\w.])1\s*:\s*1\b", r"\b(?:aaa|aaaaa|top|mirror)[ +-]*"
          r"(?:quality|grade|copy|replica)\b", r"\bsuper ?copy\b", r"高仿", r"复刻", r"[aA]货",
          r"仿品", r"原单", r"1比1")),
    Rule("protected-brand-channel", "protected_brand",
         "this brand's rights holder sells only through its own stores; wholesale and discount-group listings "
         "of it are infringing",
         (rf"\b(?:{_BRANDS})\b", _BRANDS_ZH),
         platforms=("1688", "pinduoduo", "weidian")),
    Rule("destination-au-vapes", "destination", "Australia prohibits importing nicotine vapes without a prescription",
         (r"\b(?:e-?cig(?:arette)?s?|vapes?|vaping)\b", r"电子烟"), countries=("AU",)),
    Rule("destination-sg-chewing-gum", "destination", "Singapore prohibits importing chewing gum",
         (r"\bchewing ?gum\b", r"口香糖"), countries=("SG",)),
    Rule("destination-us-kinder-surprise", "destination",
         "the United States prohibits sweets with a non-nutritive object inside",
         (r"\bkinder (?:surprise|egg)s?\b", r"健达奇趣蛋"), countries=("US",)),
    Rule("destination-gb-pepper-spray", "destination", "the United Kingdom prohibits pepper spray",
         (r"\bpepper ?spray\b", r"防狼喷雾"), countries=("GB",)),
    # Uncertain: held for a compliance analyst rather than refused.
    Rule("brand-authenticity-review", "protected_brand",
         "the listing names a protected brand on a marketplace where unauthorised sellers also list it: a "
         "compliance analyst checks the seller before we buy",
         (rf"\b(?:{_BRANDS})\b(?![\s-]*(?:style|inspired))", rf"(?:{_BRANDS_ZH})(?!风格|同款)"),
         platforms=("taobao",), action=REVIEW, reason_zh="商品标注了受保护品牌，而该平台也有未经授权的卖家：合规专员核实卖家后再采购"),
    Rule("destination-restricted-medicines", "destination",
         "medicines and supplements are restricted (not prohibited) at this destination and may need a licence: "
         "a compliance analyst checks the line before we buy",
         (r"\b(?:medicines?|supplements?|capsules|herbal remed(?:y|ies))\b", r"药品|中成药|保健品|胶囊"),
         countries=("AU", "US", "GB", "DE", "FR", "CA", "SG"), action=REVIEW,
         reason_zh="药品和保健品在目的地国家属于限制（非禁止）进口商品，可能需要许可证：合规专员核实后再采购"),
)


@dataclass(frozen=True)
class Refusal:
    line_no: int
    rule: str
    kind: str
    reason: str
    matched: str
    action: str = REFUSE
    reason_zh: str = ""


def screen_line(line_no: int, platform: str, text: str, destination: str) -> list[Refusal]:
    """The rules a line's text breaks, for this platform and destination (first match per rule)."""
    found = []
    for rule in RULES:
        if rule.countries and destination not in rule.countries:
            continue
        if rule.platforms and platform not in rule.platforms:
            continue
        for pattern in rule.patterns:
            match = re.search(pattern, text, re.IGNORECASE)
            if match:
                found.append(Refusal(line_no, rule.code, rule.kind, rule.reason, match.group(0), rule.action,
                                     rule.reason_zh))
                break
    return found


def screen(lines: list[dict], destination: str) -> list[Refusal]:
    """Every refusal for an order's lines; each line dict has line_no, platform, sku and an optional title."""
    return [refusal for line in lines for refusal in screen_line(
        line["line_no"], line["platform"], f"{line.get('title') or ''} {line['sku']}", destination)]


def refused_and_held(lines: list[dict], destination: str) -> tuple[list[Refusal], list[Refusal]]:
    """The refusals, and the holds for review of lines no refusing rule caught (one per line)."""
    hits = screen(lines, destination)
    refused = [hit for hit in hits if hit.action == REFUSE]
    refused_lines, held = {hit.line_no for hit in refused}, {}
    for hit in hits:
        if hit.action == REVIEW and hit.line_no not in refused_lines:
            held.setdefault(hit.line_no, hit)
    return refused, list(held.values())


def published_rules() -> dict:
    return {"version": RULES_VERSION,
            "rules": [{"code": r.code, "kind": r.kind, "action": r.action, "reason": r.reason,
                       "reason_zh": r.reason_zh, "patterns": list(r.patterns), "countries": list(r.countries),
                       "platforms": list(r.platforms)} for r in RULES],
            "refuse": [r.code for r in RULES if r.action == REFUSE],
            "hold_for_review": [r.code for r in RULES if r.action == REVIEW],
            "takedowns": "a rights holder's takedown blocks the listing it names",
            "blocked_merchants": "a listing bought from a blocked merchant is refused"}
