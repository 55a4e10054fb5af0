"""When each kind of claim may be opened, and until when (pure; published at `GET /rules/claim-windows`).

A window runs from an event of the parcel (its dispatch, its delivery, the carrier's incident)
for a number of days. A claim opened after its deadline is refused with the deadline named.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from service_runtime.errors import Conflict

WINDOWS_VERSION = "claim-windows-2026.12"
# kind -> (the parcel event the window starts from, days it stays open, evidence the claim needs)
WINDOWS: dict[str, dict[str, Any]] = {
    "damaged": {"from": "delivered", "days": 7, "evidence": "photos of the damaged item and its packaging"},
    "missing_item": {"from": "delivered", "days": 7, "evidence": "a photo of the parcel's contents"},
    "wrong_item": {"from": "delivered", "days": 7, "evidence": "a photo of the item received"},
    "shipping_anomaly": {"from": "delivered", "days": 30, "evidence": "a description of what went wrong"},
    "lost": {"from": "dispatched", "days": 45, "evidence": "none: the carrier's scans (or their silence)"},
    "seized": {"from": "incident", "days": 30, "evidence": "none: the carrier's customs report"},
    "returned_by_customs": {"from": "incident", "days": 30, "evidence": "none: the carrier's customs report"},
    "delayed": {"from": "dispatched", "days": 90, "evidence": "none: no delivery 60 days after dispatch"},
    # Before the warehouse: the merchant's parcel never reached us.
    "never_arrived": {"from": "merchant_shipped", "opens_after_days": 10, "days": 45,
                      "evidence": "none: the merchant's tracking number and our intake records"},
}
# Parcel silence: no carrier scan for this many days after the last one means lost.
LOST_AFTER_SILENT_DAYS = 10
# An undelivered parcel this many days after dispatch is compensated as delayed.
DELAYED_AFTER_DAYS = 60


class ClaimTooLate(Conflict):
    def __init__(self, message: str, deadline: datetime) -> None:
        super().__init__(message)
        self.deadline = deadline


STARTS = {"delivered": ("delivery", "delivered"), "dispatched": ("dispatch", "dispatched"),
          "incident": ("the carrier's report", "reported lost, seized or returned by the carrier"),
          "merchant_shipped": ("the merchant's shipment", "shipped by the merchant")}


def deadline(kind: str, starts: Mapping[str, datetime | None]) -> datetime | None:
    """The last moment a claim of this kind may be opened, or None if its window has not begun."""
    window = WINDOWS[kind]
    start = starts.get(window["from"])
    return None if start is None else start + timedelta(days=window["days"])


def check_open(kind: str, starts: Mapping[str, datetime | None], now: datetime) -> None:
    """Refuse a claim whose window has not opened, or has closed (naming the deadline)."""
    window = WINDOWS[kind]
    last = deadline(kind, starts)
    noun, verb = STARTS[window["from"]]
    if last is None:
        raise Conflict(f"{kind} claims open once the parcel is {verb}; it has not been {verb} yet")
    opens = starts[window["from"]] + timedelta(days=window.get("opens_after_days", 0))
    if "opens_after_days" in window and now < opens:
        raise Conflict(f"{kind} claims open {window['opens_after_days']} days after {noun}; "
                       f"this one can be opened from {opens.isoformat()}")
    if now > last:
        raise ClaimTooLate(f"too late: {kind} claims must be opened within {window['days']} days of {noun}; "
                       f"this parcel was {verb} on {starts[window['from']].isoformat()}, "
                       f"so the deadline was {last.isoformat()}", last)


def published_windows() -> dict[str, Any]:
    return {"version": WINDOWS_VERSION, "windows": WINDOWS, "lost_after_silent_days": LOST_AFTER_SILENT_DAYS,
            "delayed_after_days": DELAYED_AFTER_DAYS}
