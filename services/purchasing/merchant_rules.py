"""When a merchant is blocked or put in front of a risk analyst (versioned data, pure).

Zero tolerance for counterfeits: one confirmed counterfeit blocks a merchant for good. A QC
failure rate above the threshold, once enough of its items were inspected to judge, blocks the
merchant pending an analyst's review. An analyst's approval stands until new failures arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

RULES_VERSION = "merchant-rules-2026.11"
FAILURE_RATE_THRESHOLD = Decimal("0.30")  # more than this share of inspected items failed QC
MIN_INSPECTED = 3  # ... on at least this many inspected purchases

COUNTERFEIT_RULE = "counterfeit-zero-tolerance"
FAILURE_RATE_RULE = "qc-failure-rate"


@dataclass(frozen=True)
class Reputation:
    purchases: int
    inspected: int
    failed: int
    counterfeits: int
    claims: int = 0  # after-sales claims about its items (damaged, missing, wrong): shown, not yet a rule

    @property
    def failure_rate(self) -> Decimal:
        if not self.inspected:
            return Decimal("0.00")
        return (Decimal(self.failed) / Decimal(self.inspected)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Verdict:
    rule: str
    permanent: bool  # permanent: no analyst can unblock; otherwise blocked pending review
    reason: str


def verdict(reputation: Reputation, failures_already_reviewed: int = 0) -> Verdict | None:
    """What the rules say about a merchant now; None when it may be bought from."""
    if reputation.counterfeits:
        return Verdict(COUNTERFEIT_RULE, True,
                       f"{reputation.counterfeits} counterfeit item(s) confirmed: blocked permanently "
                       f"(zero tolerance, {RULES_VERSION})")
    new_failures = reputation.failed > failures_already_reviewed
    if (reputation.inspected >= MIN_INSPECTED and new_failures
            and Decimal(reputation.failed) / Decimal(reputation.inspected) > FAILURE_RATE_THRESHOLD):
        return Verdict(FAILURE_RATE_RULE, False,
                       f"QC failure rate {reputation.failure_rate:.0%} on {reputation.inspected} inspected "
                       f"purchases is over {FAILURE_RATE_THRESHOLD:.0%}: blocked pending review ({RULES_VERSION})")
    return None


def published_rules() -> dict:
    return {"version": RULES_VERSION, "failure_rate_threshold": str(FAILURE_RATE_THRESHOLD),
            "min_inspected": MIN_INSPECTED,
            "rules": {COUNTERFEIT_RULE: "any confirmed counterfeit blocks the merchant permanently",
                      FAILURE_RATE_RULE: "a QC failure rate over the threshold on at least min_inspected "
                                         "inspected purchases blocks the merchant pending a risk analyst's review"}}
