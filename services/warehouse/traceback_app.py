"""Warehouse commands and queries for batch quality traceback, recalls and the weekly report."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone

from eventsourcing.utils import get_topic

from service_runtime import timers
from service_runtime.errors import DomainError
from service_runtime.store import ServiceApplication
from service_runtime.timers import Timer
from services.warehouse.domain import Item
from services.warehouse.recalls import QualityReport, Recall, report_id
from services.warehouse.traceback import REPORT_VERSION, BatchQuery, ItemFacts, iso_week, weekly_report, week_bounds

WEEKLY_REPORT = "quality-report.weekly"
REPORT_GRACE = timedelta(days=2)  # items received late in a week get inspected before its report


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
        """The week's report, published once; asking again returns it. From then on a durable timer
        publishes each following week's report after that week ends."""

        def attempt() -> tuple[list, QualityReport]:
            changed = self._report_and_next_timer(week, triggered_by)
            return changed, self.find(report_id(week), QualityReport) or changed[0]

        return self.save_with_retry(attempt)

    def on_weekly_report_due(self, timer: Timer, _now: datetime) -> list:
        return self._report_and_next_timer(timer.subject, "system:warehouse")

    def _report_and_next_timer(self, week: str, triggered_by: str) -> list:
        _, last_day = week_bounds(week)  # a malformed week is a ValueError before anything is read
        changed: list = []
        if self.find(report_id(week), QualityReport) is None:
            rows = weekly_report(week, (facts_of(i) for i in self.all_items()))
            changed.append(QualityReport(week=week, report_version=REPORT_VERSION, rows=rows,
                                         triggered_by=triggered_by))
        next_week = iso_week(last_day + timedelta(days=7))
        _, next_last_day = week_bounds(next_week)
        due = datetime.combine(next_last_day + timedelta(days=1), time(), timezone.utc) + REPORT_GRACE
        changed.append(timers.schedule(self, WEEKLY_REPORT, next_week, due))
        return changed
