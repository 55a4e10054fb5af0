"""Warehouse commands and queries for batch quality traceback, recalls and the weekly report."""

from __future__ import annotations

import uuid

from eventsourcing.utils import get_topic

from service_runtime.errors import DomainError
from service_runtime.store import ServiceApplication
from services.warehouse.domain import Item
from services.warehouse.recalls import QualityReport, Recall, report_id
from services.warehouse.traceback import REPORT_VERSION, BatchQuery, ItemFacts, weekly_report, week_bounds


def facts_of(item: Item) -> ItemFacts:
    inspection = item.inspection or {}
    return ItemFacts(
        traceability_code=item.traceability_code, order_id=str(item.order_id), customer_id=item.customer_id,
        line_no=item.line_no, platform=item.platform, merchant_id=item.merchant_id,
        merchant_name=item.merchant_name, item_id=item.item_id, sku=item.sku, category=item.category,
        intake=item.tracking_number, received_on=item.created_on.date(), status=item.status,
        location=item.location, inspected=item.inspection is not None, passed=inspection.get("passed"))


class Traceback(ServiceApplication):
    def all_items(self) -> list[Item]:
        """Every item, read through the store's log of item intakes (one row per item)."""
        topics, found, start = [get_topic(Item.Received)], [], 1
        while batch := self.recorder.select_notifications(start=start, limit=500, topics=topics):
            found += [self.find(n.originator_id, Item) for n in batch]
            start = batch[-1].id + 1
        return [item for item in found if item is not None]

    def batch(self, query: BatchQuery) -> list[Item]:
        if query.is_empty():
            raise DomainError("name the batch: merchant_id, item_id, sku, intake or a received date range")
        return sorted((i for i in self.all_items() if query.matches(facts_of(i))), key=lambda i: i.traceability_code)

    def recall(self, query: BatchQuery, reason: str, analyst: str) -> Recall:
        """Mark a batch defective: items still here are held (never packed), shipped ones are listed
        for after-sales; every item's customer learns of it through `warehouse.ItemRecalled`."""
        if not reason.strip():
            raise DomainError("a recall needs a reason")
        recall_id = uuid.uuid4()

        def attempt() -> tuple[list, Recall]:
            items = self.batch(query)
            if not items:
                raise DomainError(f"no item matches {query.described()}")
            recalled = [item for item in items if item.recall_for(recall_id, reason.strip())]
            recall = Recall(recall_id=recall_id, reason=reason.strip(), criteria=query.described(),
                            held=[i.traceability_code for i in recalled if not i.packed],
                            shipped=[i.traceability_code for i in recalled if i.packed], issued_by=analyst)
            return [recall, *recalled], recall

        return self.save_with_retry(attempt)

    def quality_report(self, week: str, triggered_by: str) -> QualityReport:
        """The week's report, published once; asking again returns it (a scheduler may ask weekly)."""
        week_bounds(week)  # a malformed week is a ValueError before anything is read

        def attempt() -> tuple[list, QualityReport]:
            existing = self.find(report_id(week), QualityReport)
            if existing is not None:
                return [], existing
            rows = weekly_report(week, (facts_of(i) for i in self.all_items()))
            report = QualityReport(week=week, report_version=REPORT_VERSION, rows=rows, triggered_by=triggered_by)
            return [report], report

        return self.save_with_retry(attempt)
