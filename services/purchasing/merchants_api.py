"""The merchant governance gateway: risk analysts review and decide; agents and auditors read."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from service_runtime.auth import AUDITOR, PURCHASING_AGENT, RISK_ANALYST, Caller
from service_runtime.http import require_roles
from service_runtime.requests import Strict
from services.purchasing import merchant_rules
from services.purchasing.app import PurchasingApplication
from services.purchasing.merchants import ACTIVE, BLOCKED, BLOCKED_PERMANENTLY, PENDING_REVIEW, Merchant

READERS = (RISK_ANALYST, PURCHASING_AGENT, AUDITOR)
Status = Literal["active", "blocked_pending_review", "blocked", "blocked_permanently"]
assert {ACTIVE, PENDING_REVIEW, BLOCKED, BLOCKED_PERMANENTLY} == set(Status.__args__)


class DecisionRequest(Strict):
    decision: Literal["approve", "block", "unblock"]
    reason: str = Field(min_length=3, max_length=1000, pattern=r"\S")


class ReputationView(BaseModel):
    purchases: int
    inspected: int
    failed: int
    failure_rate: Decimal
    counterfeits: int
    claims: int
    returns: int
    after_sales_rate: Decimal
    shipped: int
    late_shipments: int
    late_rate: Decimal


class DecisionView(BaseModel):
    decision: str
    rule: str
    reason: str
    decided_by: str


class MerchantView(BaseModel):
    platform: str
    merchant_id: str
    merchant_name: str
    status: Status
    block_rule: str | None
    block_reason: str | None
    reputation: ReputationView
    listings: list[str]
    decisions: list[DecisionView]
    rules_version: str
    version: int

    @classmethod
    def of(cls, merchant: Merchant) -> "MerchantView":
        reputation = merchant.reputation
        return cls(platform=merchant.platform, merchant_id=merchant.merchant_id,
                   merchant_name=merchant.merchant_name, status=merchant.status, block_rule=merchant.block_rule,
                   block_reason=merchant.block_reason,
                   reputation=ReputationView(purchases=reputation.purchases, inspected=reputation.inspected,
                                             failed=reputation.failed, failure_rate=reputation.failure_rate,
                                             counterfeits=reputation.counterfeits, claims=reputation.claims,
                                             returns=reputation.returns,
                                             after_sales_rate=reputation.after_sales_rate,
                                             shipped=reputation.shipped, late_shipments=reputation.late_shipments,
                                             late_rate=reputation.late_rate),
                   listings=merchant.listings, decisions=merchant.decisions,
                   rules_version=merchant_rules.RULES_VERSION, version=merchant.version)


def router(app: PurchasingApplication) -> APIRouter:
    api = APIRouter(prefix="/purchasing", tags=["merchant governance"])

    @api.get("/merchant-rules")
    def rules(_: Caller = Depends(require_roles(*READERS))) -> dict:
        """The auto-block rules and their version."""
        return merchant_rules.published_rules()

    @api.get("/merchants", response_model=list[MerchantView])
    def merchants(status: Status | None = Query(default=None),
                  _: Caller = Depends(require_roles(*READERS))):
        return [MerchantView.of(m) for m in app.merchants(status)]

    @api.get("/merchant-review-queue", response_model=list[MerchantView])
    def review_queue(_: Caller = Depends(require_roles(RISK_ANALYST, AUDITOR))):
        """Merchants blocked pending a risk analyst's review."""
        return [MerchantView.of(m) for m in app.merchants(PENDING_REVIEW)]

    @api.get("/merchants/{platform}/{merchant_id}", response_model=MerchantView)
    def merchant(platform: str, merchant_id: str, _: Caller = Depends(require_roles(*READERS))):
        return MerchantView.of(app.merchant(platform, merchant_id))

    @api.post("/merchants/{platform}/{merchant_id}/decisions", response_model=MerchantView)
    def decide(platform: str, merchant_id: str, body: DecisionRequest,
               caller: Caller = Depends(require_roles(RISK_ANALYST))):
        """Approve a merchant after review, block one, or lift an analyst's block; always with a reason."""
        return MerchantView.of(app.decide_on_merchant(platform, merchant_id, body.decision, body.reason,
                                                      f"{RISK_ANALYST}:{caller.subject}"))

    return api
