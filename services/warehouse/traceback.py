"""Batch quality traceback (pure): which items a batch query finds, and the weekly QC report.

A batch is what staff can name: a merchant, a marketplace listing or SKU, an intake (the inbound
parcel, by its domestic tracking number), or an intake date range; the criteria combine (and).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

REPORT_VERSION = "quality-traceback-2026.11"


@dataclass(frozen=True)
class ItemFacts:
    traceability_code: str
    order_id: str
    customer_id: str
    line_no: int
    platform: str
    merchant_id: str
    merchant_name: str
    item_id: str
    sku: str
    category: str
    intake: str  # the inbound parcel's tracking number
    received_on: date
    status: str
    location: str | None
    inspected: bool
    passed: bool | None


@dataclass(frozen=True)
class BatchQuery:
    merchant_id: str | None = None
    item_id: str | None = None
    sku: str | None = None
    intake: str | None = None  # the inbound parcel's domestic tracking number
    received_from: date | None = None
    received_to: date | None = None

    def is_empty(self) -> bool:
        return not any(asdict(self).values())

    def matches(self, item: ItemFacts) -> bool:
        return ((self.merchant_id is None or item.merchant_id == self.merchant_id)
                and (self.item_id is None or item.item_id == self.item_id)
                and (self.sku is None or item.sku == self.sku)
                and (self.intake is None or item.intake == self.intake)
                and (self.received_from is None or item.received_on >= self.received_from)
                and (self.received_to is None or item.received_on <= self.received_to))

    def described(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v is not None}


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str) -> tuple[date, date]:
    start = datetime.strptime(f"{week}-1", "%G-W%V-%u").date()
    return start, date.fromordinal(start.toordinal() + 6)


def weekly_report(week: str, items: Iterable[ItemFacts]) -> list[dict]:
    """QC failure rate by merchant and category over the items received in `week` and inspected."""
    start, end = week_bounds(week)
    groups: dict[tuple[str, str, str], list[bool]] = {}
    for item in items:
        if item.inspected and start <= item.received_on <= end:
            groups.setdefault((item.platform, item.merchant_id, item.category), []).append(bool(item.passed))
    rows = []
    for (platform, merchant_id, category), results in sorted(groups.items()):
        failed = results.count(False)
        rate = (Decimal(failed) / Decimal(len(results))).quantize(Decimal("0.01"), ROUND_HALF_UP)
        rows.append({"platform": platform, "merchant_id": merchant_id, "category": category,
                     "inspected": len(results), "failed": failed, "failure_rate": str(rate)})
    return rows
