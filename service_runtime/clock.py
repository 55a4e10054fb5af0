"""Time as projections store it (pure: no I/O imports, usable from domain modules)."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_timestamp(value: str | datetime) -> str:
    """One text form for every time in a projection (UTC, microseconds), so entries sort by
    time: a carrier's `09:00+08:00` comes before its `03:00Z` of the same day."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


class Clock:
    """What time it is for commands, reactions and timers (never for projections). Inject a
    `ManualClock` in tests so that days pass without sleeping."""

    # True if time can move by more than it takes (a test's offset): whoever sleeps until a due
    # time must then look again often instead of trusting the wait.
    jumps = False

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


SYSTEM_CLOCK = Clock()


class ManualClock(Clock):
    """A clock that moves only when told to."""

    jumps = True

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(timezone.utc)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        self.current = self.current + timedelta(**delta)
        return self.current


class OffsetFileClock(Clock):
    """The system time plus the seconds written in a file: lets tests and demos move time forward
    for several processes at once (`KONGFU_CLOCK_OFFSET_FILE`). A missing file means no offset."""

    jumps = True

    def __init__(self, path: str) -> None:
        self.path = path

    def now(self) -> datetime:
        from datetime import timedelta

        try:
            with open(self.path) as handle:
                offset = float(handle.read().strip() or 0)
        except FileNotFoundError:
            offset = 0.0
        return super().now() + timedelta(seconds=offset)
