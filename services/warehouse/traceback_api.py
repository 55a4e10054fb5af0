"""The traceback gateway: staff find every item of a batch, analysts recall one, anyone on staff
may trigger the weekly quality report."""

from __future__ import annotations


from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from contracts.warehouse import QualityRowV1, RecallIssued
from service_runtime.auth import AUDITOR, RISK_ANALYST, SUPPORT_AGENT, WAREHOUSE_STAFF, Caller
from service_runtime.errors import DomainError
from service_runtime.http import require_roles
from service_runtime.requests import IsoDate, Strict
from services.warehouse.app import WarehouseApplication
from services.warehouse.recalls import QualityReport
from services.warehouse.traceback import BatchQuery, ItemFacts
from services.warehouse.traceback_app import facts_of

READERS = (WAREHOUSE_STAFF, RISK_ANALYST, SUPPORT_AGENT, AUDITOR)
Week = Field(pattern=r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$", examples=["2026-W48"])


class BatchCriteria(Strict):
    merchant_id: str | None = Field(default=None, max_length=200)
    item_id: str | None = Field(default=None, max_length=64, description="the marketplace listing id")
    sku: str | None = Field(default=None, max_length=200)
    intake: str | None = Field(default=None, max_length=64, description="the inbound parcel's tracking number")
    received_from: IsoDate | None = None
    received_to: IsoDate | None = None

    def query(self) -> BatchQuery:
        return BatchQuery(**self.model_dump())


class RecallRequest(BatchCriteria):
    reason: str = Field(min_length=3, max_length=1000, pattern=r"\S")


class ReportRequest(Strict):
    week: str = Week


class ReportView(BaseModel):
    week: str
    report_version: str
    rows: list[QualityRowV1]

    @classmethod
    def of(cls, report: QualityReport) -> "ReportView":
        return cls(week=report.week, report_version=report.report_version, rows=report.rows)


def router(app: WarehouseApplication) -> APIRouter:
    api = APIRouter(prefix="/warehouse", tags=["quality traceback"])

    @api.get("/batches/items", response_model=list[ItemFacts])
    def batch_items(criteria: BatchCriteria = Depends(), _: Caller = Depends(require_roles(*READERS))):
        """Every item of a batch (merchant, listing, SKU, intake, received dates: combined), with its
        traceability code and where it is now."""
        return [facts_of(item) for item in app.batch(criteria.query())]

    @api.post("/recalls", status_code=201, response_model=RecallIssued)
    def recall(body: RecallRequest, caller: Caller = Depends(require_roles(RISK_ANALYST))):
        """Mark a batch defective: items still here are held and never packed; their customers are
        offered a refund or a re-purchase; shipped ones are handed to after-sales for a claim."""
        criteria = BatchCriteria(**body.model_dump(exclude={"reason"}))
        recall = app.recall(criteria.query(), body.reason, f"{RISK_ANALYST}:{caller.subject}")
        return RecallIssued(recall_id=recall.recall_id, reason=recall.reason, criteria=recall.criteria,
                            held=recall.held, shipped=recall.shipped, issued_by=recall.issued_by)

    @api.post("/quality-reports", response_model=ReportView)
    def quality_report(body: ReportRequest, caller: Caller = Depends(require_roles(*READERS))):
        """Publish the week's quality traceback (QC failure rate by merchant and category) on the
        warehouse topic for analytics; once per week, asking again returns it."""
        try:
            return ReportView.of(app.quality_report(body.week, caller.subject))
        except ValueError as exc:
            raise DomainError(f"week {body.week} is not an ISO week") from exc

    return api
