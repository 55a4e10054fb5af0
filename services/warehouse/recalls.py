"""A recall of a defective batch, and the weekly quality traceback report, as aggregates."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from service_runtime.tracing import TracedAggregate, stable_id


class Recall(TracedAggregate):
    """An analyst found a batch defective: which items it held back and which had already left."""

    @staticmethod
    def create_id(recall_id: UUID, **_: object) -> UUID:
        return recall_id

    @event("Issued")
    def __init__(self, recall_id: UUID, reason: str, criteria: dict, held: list, shipped: list,
                 issued_by: str) -> None:
        self.recall_id, self.reason, self.criteria = recall_id, reason, dict(criteria)
        self.held, self.shipped, self.issued_by = list(held), list(shipped), issued_by


def report_id(week: str) -> UUID:
    return stable_id("quality-report", week)


class QualityReport(TracedAggregate):
    """One report per ISO week; asking again returns the one already published."""

    @staticmethod
    def create_id(week: str, **_: object) -> UUID:
        return report_id(week)

    @event("Published")
    def __init__(self, week: str, report_version: str, rows: list, triggered_by: str) -> None:
        self.week, self.report_version, self.rows, self.triggered_by = week, report_version, list(rows), triggered_by
