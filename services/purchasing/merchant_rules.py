"""When a merchant is blocked or put in front of a risk analyst (versioned data, pure).

Zero tolerance for counterfeits: one confirmed counterfeit blocks a merchant for good. Once there
is enough history to judge, three rates block a merchant pending an analyst's review: its QC
failure rate, its share of late domestic shipments (the merchant shipped later than the published
number of hours after our purchase), and its after-sales rate (claims and returns about its items
per purchase). An analyst's approval stands until new failures, late shipments or after-sales
cases arrive. `RULE_BOOK[version]` holds each version's thresholds; new verdicts use
`RULES_VERSION` and every block records the version it was decided under.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

RULE_BOOK: dict[str, dict[str, str]] = {
    "merchant-rules-2026.11": {"failure_rate_threshold": "0.30", "min_inspected": "3"},
    "merchant-rules-2026.12": {"failure_rate_threshold": "0.30", "min_inspected": "3",
                               "late_shipment_after_hours": "48", "late_rate_threshold": "0.50", "min_shipped": "3",
                               "after_sales_rate_threshold": "0.30", "min_purchases": "3"},
}
RULES_VERSION = "merchant-rules-2026.12"
CURRENT = RULE_BOOK[RULES_VERSION]
FAILURE_RATE_THRESHOLD = Decimal(CURRENT["failure_rate_threshold"])  # more than this share failed QC
MIN_INSPECTED = int(CURRENT["min_inspected"])  # ... on at least this many inspected purchases
LATE_SHIPMENT_AFTER_HOURS = int(CURRENT["late_shipment_after_hours"])  # purchase → merchant's shipment

COUNTERFEIT_RULE = "counterfeit-zero-tolerance"
FAILURE_RATE_RULE = "qc-failure-rate"
LATE_SHIPMENT_RULE = "late-domestic-shipments"
AFTER_SALES_RULE = "after-sales-rate"


def _rate(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Reputation:
    purchases: int
    inspected: int
    failed: int
    counterfeits: int
    claims: int = 0  # after-sales claims about its items
    shipped: int = 0  # purchases the merchant has shipped to our warehouse
    late_shipments: int = 0  # ... later than the rule's hours after our purchase
    returns: int = 0  # approved returns and exchanges of its items

    @property
    def failure_rate(self) -> Decimal:
        return _rate(self.failed, self.inspected)

    @property
    def late_rate(self) -> Decimal:
        return _rate(self.late_shipments, self.shipped)

    @property
    def after_sales(self) -> int:
        return self.claims + self.returns

    @property
    def after_sales_rate(self) -> Decimal:
        return _rate(self.after_sales, self.purchases)


@dataclass(frozen=True)
class Reviewed:
    """What an analyst had already seen when approving: only newer cases can block again."""
    failed: int = 0
    late_shipments: int = 0
    after_sales: int = 0


@dataclass(frozen=True)
class Verdict:
    rule: str
    permanent: bool  # permanent: no analyst can unblock; otherwise blocked pending review
    reason: str


def is_late(hours_to_ship: Decimal, version: str = RULES_VERSION) -> bool:
    return hours_to_ship > Decimal(RULE_BOOK[version].get("late_shipment_after_hours", "Infinity"))


def _over(part: int, whole: int, threshold: str, minimum: str) -> bool:
    return whole >= int(minimum) and Decimal(part) / Decimal(whole) > Decimal(threshold)


def verdict(reputation: Reputation, failures_already_reviewed: int = 0, reviewed: Reviewed | None = None,
            version: str = RULES_VERSION) -> Verdict | None:
    """What the rules of `version` say about a merchant now; None when it may be bought from."""
    rules = RULE_BOOK[version]
    reviewed = reviewed or Reviewed(failed=failures_already_reviewed)
    if reputation.counterfeits:
        return Verdict(COUNTERFEIT_RULE, True,
                       f"{reputation.counterfeits} counterfeit item(s) confirmed: blocked permanently "
                       f"(zero tolerance, {version})")
    if (reputation.failed > reviewed.failed and _over(reputation.failed, reputation.inspected,
                                                      rules["failure_rate_threshold"], rules["min_inspected"])):
        return Verdict(FAILURE_RATE_RULE, False,
                       f"QC failure rate {reputation.failure_rate:.0%} on {reputation.inspected} inspected "
                       f"purchases is over {Decimal(rules['failure_rate_threshold']):.0%}: blocked pending review "
                       f"({version})")
    if "late_rate_threshold" not in rules:
        return None
    if (reputation.late_shipments > reviewed.late_shipments and _over(
            reputation.late_shipments, reputation.shipped, rules["late_rate_threshold"], rules["min_shipped"])):
        return Verdict(LATE_SHIPMENT_RULE, False,
                       f"{reputation.late_shipments} of {reputation.shipped} domestic shipments "
                       f"({reputation.late_rate:.0%}) left later than {rules['late_shipment_after_hours']} hours "
                       f"after purchase, over {Decimal(rules['late_rate_threshold']):.0%}: blocked pending review "
                       f"({version})")
    if (reputation.after_sales > reviewed.after_sales and _over(
            reputation.after_sales, reputation.purchases, rules["after_sales_rate_threshold"],
            rules["min_purchases"])):
        return Verdict(AFTER_SALES_RULE, False,
                       f"{reputation.claims} claim(s) and {reputation.returns} return(s) on {reputation.purchases} "
                       f"purchases ({reputation.after_sales_rate:.0%}) is over "
                       f"{Decimal(rules['after_sales_rate_threshold']):.0%}: blocked pending review ({version})")
    return None


def published_rules() -> dict:
    return {"version": RULES_VERSION, "failure_rate_threshold": str(FAILURE_RATE_THRESHOLD),
            "min_inspected": MIN_INSPECTED, "late_shipment_after_hours": LATE_SHIPMENT_AFTER_HOURS,
            "late_rate_threshold": CURRENT["late_rate_threshold"], "min_shipped": int(CURRENT["min_shipped"]),
            "after_sales_rate_threshold": CURRENT["after_sales_rate_threshold"],
            "min_purchases": int(CURRENT["min_purchases"]), "versions": RULE_BOOK,
            "rules": {COUNTERFEIT_RULE: "any confirmed counterfeit blocks the merchant permanently",
                      FAILURE_RATE_RULE: "a QC failure rate over the threshold on at least min_inspected "
                                         "inspected purchases blocks the merchant pending a risk analyst's review",
                      LATE_SHIPMENT_RULE: "a share of domestic shipments later than late_shipment_after_hours "
                                          "after purchase over late_rate_threshold, on at least min_shipped "
                                          "shipments, blocks the merchant pending review",
                      AFTER_SALES_RULE: "claims and returns about its items per purchase over "
                                        "after_sales_rate_threshold, on at least min_purchases purchases, "
                                        "blocks the merchant pending review"}}
