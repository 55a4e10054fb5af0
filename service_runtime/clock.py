"""Time as projections store it (pure: no I/O imports, usable from domain modules)."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_timestamp(value: str | datetime) -> str:
    """One text form for every time in a projection (UTC, microseconds), so entries sort by
    time: a carrier's `09:00+08:00` comes before its `03:00Z` of the same day."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
