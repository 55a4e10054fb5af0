"""Merchants: one record per marketplace shop, its reputation from our own history, and its block.

A merchant is created by its first purchase (or by a counterfeit finding about it); inspections,
counterfeit findings, its domestic shipments (late or not), and claims and returns about its items
update its reputation, and the rules in `merchant_rules` decide when it
is blocked. A risk analyst works the review queue: approve, block, or unblock, always with a reason.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from service_runtime.errors import Conflict, DomainError
from service_runtime.tracing import TracedAggregate, stable_id
from services.purchasing import merchant_rules
from services.purchasing.merchant_rules import Reputation, Reviewed

ACTIVE = "active"
PENDING_REVIEW = "blocked_pending_review"
BLOCKED = "blocked"
BLOCKED_PERMANENTLY = "blocked_permanently"
ANALYST_RULE = "risk-analyst-decision"


def merchant_key(platform: str, merchant_id: str) -> UUID:
    return stable_id("merchant", platform, merchant_id)


class MerchantBlocked(DomainError):
    """The purchasing agent may not buy from this merchant; the message says why."""


class Merchant(TracedAggregate):
    @staticmethod
    def create_id(platform: str, merchant_id: str, merchant_name: str) -> UUID:
        return merchant_key(platform, merchant_id)

    @event("Registered")
    def __init__(self, platform: str, merchant_id: str, merchant_name: str) -> None:
        self.platform, self.merchant_id, self.merchant_name = platform, merchant_id, merchant_name
        self.status = ACTIVE
        self.block_reason: str | None = None
        self.block_rule: str | None = None
        self.purchase_tasks: list[str] = []
        self.listings: list[str] = []  # marketplace item ids bought from this merchant
        self.inspections: dict[str, bool] = {}  # traceability code -> passed (the latest result)
        self.counterfeits: list[str] = []
        self.claims: list[str] = []
        self.failures_reviewed = 0  # failures an analyst has already seen and approved
        self.decisions: list[dict] = []

    @property
    def reputation(self) -> Reputation:
        shipments = getattr(self, "shipments", {})
        return Reputation(purchases=len(self.purchase_tasks), inspected=len(self.inspections),
                          failed=sum(1 for passed in self.inspections.values() if not passed),
                          counterfeits=len(self.counterfeits), claims=len(getattr(self, "claims", [])),
                          shipped=len(shipments), late_shipments=sum(1 for s in shipments.values() if s["late"]),
                          returns=len(getattr(self, "returns", [])))

    @property
    def reviewed(self) -> Reviewed:
        counts = getattr(self, "reviewed_counts", None) or {}
        return Reviewed(failed=self.failures_reviewed, **counts)

    @property
    def blocked(self) -> bool:
        return self.status != ACTIVE

    def refuse_if_blocked(self) -> None:
        if self.blocked:
            raise MerchantBlocked(f"merchant {self.merchant_name} ({self.platform}/{self.merchant_id}) is "
                                  f"{self.status.replace('_', ' ')}: {self.block_reason}; buy from another seller")

    # What the log tells us ---------------------------------------------------------------

    def record_purchase(self, task_id: UUID, item_id: str, at: datetime | None = None) -> None:
        if str(task_id) not in self.purchase_tasks:
            self._purchase_recorded(task_id=str(task_id), item_id=item_id)
            if at is not None:
                self._purchase_time_recorded(task_id=str(task_id), at=at)

    @event("PurchaseRecorded")
    def _purchase_recorded(self, task_id: str, item_id: str) -> None:
        self.purchase_tasks.append(task_id)
        if item_id not in self.listings:
            self.listings.append(item_id)

    @event("PurchaseTimeRecorded")
    def _purchase_time_recorded(self, task_id: str, at: datetime) -> None:
        self.purchased_at = {**getattr(self, "purchased_at", {}), task_id: at}

    def record_shipment(self, task_id: UUID, at: datetime) -> None:
        """The merchant shipped what we bought: late when later than the rules' hours after purchase."""
        purchased = getattr(self, "purchased_at", {}).get(str(task_id))
        if purchased is None or str(task_id) in getattr(self, "shipments", {}):
            return
        hours = (Decimal((at - purchased).total_seconds()) / 3600).quantize(Decimal("0.1"))
        self._shipment_recorded(task_id=str(task_id), hours=hours, late=merchant_rules.is_late(hours),
                                rules_version=merchant_rules.RULES_VERSION)
        self.apply_rules()

    @event("ShipmentRecorded")
    def _shipment_recorded(self, task_id: str, hours: Decimal, late: bool, rules_version: str) -> None:
        self.shipments = {**getattr(self, "shipments", {}), task_id: {"hours": hours, "late": late}}

    def record_return(self, return_id: UUID) -> None:
        if str(return_id) not in getattr(self, "returns", []):
            self._return_recorded(return_id=str(return_id))
            self.apply_rules()

    @event("ReturnRecorded")
    def _return_recorded(self, return_id: str) -> None:
        self.returns = [*getattr(self, "returns", []), return_id]

    def record_inspection(self, traceability_code: str, passed: bool) -> None:
        if self.inspections.get(traceability_code) is not passed:
            self._inspection_recorded(traceability_code=traceability_code, passed=passed)
            self.apply_rules()

    @event("InspectionRecorded")
    def _inspection_recorded(self, traceability_code: str, passed: bool) -> None:
        self.inspections[traceability_code] = passed

    def record_counterfeit(self, finding: str) -> None:
        """`finding` names the counterfeit item (order, line, code) so a repeat is recognised."""
        if finding not in self.counterfeits:
            self._counterfeit_recorded(finding=finding)
        self.apply_rules()

    @event("CounterfeitRecorded")
    def _counterfeit_recorded(self, finding: str) -> None:
        self.counterfeits.append(finding)

    def record_claim(self, claim_id: UUID) -> None:
        if str(claim_id) not in getattr(self, "claims", []):
            self._claim_recorded(claim_id=str(claim_id))
            self.apply_rules()

    @event("ClaimRecorded")
    def _claim_recorded(self, claim_id: str) -> None:
        self.claims = [*getattr(self, "claims", []), claim_id]

    def apply_rules(self) -> None:
        verdict = merchant_rules.verdict(self.reputation, reviewed=self.reviewed)
        if verdict is None or self.status == BLOCKED_PERMANENTLY:
            return
        if verdict.permanent:
            self._block(BLOCKED_PERMANENTLY, verdict.rule, verdict.reason, "system:purchasing")
        elif self.status == ACTIVE:
            self._block(PENDING_REVIEW, verdict.rule, verdict.reason, "system:purchasing")

    # A risk analyst's decisions ----------------------------------------------------------

    def approve(self, reason: str, analyst: str) -> None:
        if self.status != PENDING_REVIEW:
            raise Conflict(f"merchant {self.merchant_id} is {self.status}, not waiting for review")
        self._unblock("approved", _required(reason), analyst)

    def block(self, reason: str, analyst: str) -> None:
        if self.status in (BLOCKED, BLOCKED_PERMANENTLY):
            raise Conflict(f"merchant {self.merchant_id} is already {self.status.replace('_', ' ')}")
        self._block(BLOCKED, ANALYST_RULE, _required(reason), analyst)

    def unblock(self, reason: str, analyst: str) -> None:
        if self.status == BLOCKED_PERMANENTLY:
            raise Conflict(f"merchant {self.merchant_id} is blocked permanently ({self.block_rule}); "
                           "a confirmed counterfeit cannot be unblocked")
        if self.status == ACTIVE:
            raise Conflict(f"merchant {self.merchant_id} is not blocked")
        self._unblock("unblocked", _required(reason), analyst)

    def _block(self, status: str, rule: str, reason: str, decided_by: str) -> None:
        self._blocked(platform=self.platform, merchant_id=self.merchant_id, merchant_name=self.merchant_name,
                      status=status, rule=rule, rules_version=merchant_rules.RULES_VERSION, reason=reason,
                      decided_by=decided_by, listings=list(self.listings))

    @event("Blocked")
    def _blocked(self, platform: str, merchant_id: str, merchant_name: str, status: str, rule: str,
                 rules_version: str, reason: str, decided_by: str, listings: list) -> None:
        self.status, self.block_rule, self.block_reason = status, rule, reason
        self.decisions.append({"decision": status, "rule": rule, "reason": reason, "decided_by": decided_by})

    def _unblock(self, decision: str, reason: str, decided_by: str) -> None:
        reputation = self.reputation
        self._unblocked(platform=self.platform, merchant_id=self.merchant_id, merchant_name=self.merchant_name,
                        decision=decision, reason=reason, decided_by=decided_by, listings=list(self.listings),
                        failures_reviewed=reputation.failed)
        self._review_counted(late_shipments=reputation.late_shipments, after_sales=reputation.after_sales)

    @event("Unblocked")
    def _unblocked(self, platform: str, merchant_id: str, merchant_name: str, decision: str, reason: str,
                   decided_by: str, listings: list, failures_reviewed: int) -> None:
        self.status, self.block_rule, self.block_reason = ACTIVE, None, None
        self.failures_reviewed = failures_reviewed
        self.decisions.append({"decision": decision, "rule": ANALYST_RULE, "reason": reason,
                               "decided_by": decided_by})
        self.reviewed_counts = None

    @event("ReviewCounted")
    def _review_counted(self, late_shipments: int, after_sales: int) -> None:
        """What the analyst saw besides QC failures: late shipments and after-sales cases."""
        self.reviewed_counts = {"late_shipments": late_shipments, "after_sales": after_sales}


def _required(reason: str) -> str:
    if not reason or not reason.strip():
        raise DomainError("a risk analyst's decision needs a reason")
    return reason.strip()


class ReceivedItem(TracedAggregate):
    """Which merchant an item that reached our warehouse came from, so its inspection counts for them."""

    @staticmethod
    def create_id(traceability_code: str, order_id: UUID, platform: str, merchant_id: str) -> UUID:
        return received_item_key(traceability_code)

    @event("Noted")
    def __init__(self, traceability_code: str, order_id: UUID, platform: str, merchant_id: str) -> None:
        self.traceability_code, self.order_id = traceability_code, order_id
        self.merchant = merchant_key(platform, merchant_id)


def received_item_key(traceability_code: str) -> UUID:
    return stable_id("received-item", traceability_code)
