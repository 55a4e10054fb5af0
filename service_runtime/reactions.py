"""A consumer's reactions to the records of one fetch, saved together in one transaction.

The handlers run in the records' order, and each one sees what the earlier ones changed but
did not save yet (`ConsistentCacheRepository.seeing_unsaved`). Then their new events, the handled
events' ids and one position per partition are saved in one transaction. Saving each reaction on
its own cost a round trip, a table lock and a wake of the relay for each; together they cost one.

The consumer falls back to one-by-one saves (`SaveApart`) whenever a joint save could differ from
them. That happens when:
- an event id comes twice in the batch (a re-published event);
- a handler changed an aggregate without starting from the earlier reaction's unsaved state;
- the save meets a version conflict with a concurrent command;
- the save meets an event handled before.
The batch gives up before anything of it is written.
"""

from __future__ import annotations

from typing import Any, Sequence

from eventsourcing.persistence import IntegrityError, Tracking

from service_runtime.aggregate_cache import Unsaved
from service_runtime.store import AlreadyProcessed, ServiceApplication

UNCHANGED = "unchanged"  # a reaction that changed nothing: its position waits, like a message without a handler


class SaveApart(Exception):
    """The batch's reactions cannot be saved together; nothing of them was written."""


def _continues(earlier: Any, later: Any) -> bool:
    """`later` holds `earlier`'s unsaved events first: it was loaded from it, then changed."""
    before = [(type(e), e.originator_version) for e in earlier.pending_events]
    return [(type(e), e.originator_version) for e in later.pending_events[:len(before)]] == before


class Reactions:
    """The reactions of one batch, gathered for one save."""

    def __init__(self) -> None:
        self.event_ids: list[Any] = []
        self._written: list[tuple[Any, int]] = []  # (aggregate id, version) of each new event, as triggered

    def add(self, changed: Sequence[Any], unsaved: Unsaved, event_id: Any) -> str:
        """Put a reaction's changed aggregates in `unsaved`, where the next handlers load them
        from: "handled", or UNCHANGED if it added no event."""
        changed = list({id(a): a for a in changed if a.pending_events}.values())
        for aggregate in changed:
            earlier = unsaved.get(aggregate.id)
            if earlier is not None and not (unsaved.handed_out(aggregate) and _continues(earlier, aggregate)):
                raise SaveApart(f"{aggregate.id} changed apart from its unsaved state")
        written = [(aggregate.id, event.originator_version) for aggregate in changed
                   for event in aggregate.pending_events[len(getattr(unsaved.get(aggregate.id), "pending_events", ())):]]
        if not written:
            return UNCHANGED
        if event_id in self.event_ids:
            raise SaveApart(f"event {event_id} twice in one batch")
        for aggregate in changed:
            unsaved[aggregate.id] = aggregate
        self._written += written
        self.event_ids.append(event_id)
        return "handled"

    def save(self, app: ServiceApplication, unsaved: Unsaved, trackings: Sequence[Tracking]) -> bool:
        """Whether anything was saved. The new events in the order one save per reaction would
        have written them (reaction by reaction, each one's aggregates in the order it returned
        them), so that their notification ids, and what the relay publishes, follow cause and
        effect across aggregates too. `trackings`: per partition, the batch's last record read,
        whether its reaction changed something or not."""
        if not self.event_ids:
            return False
        events = {(aggregate.id, event.originator_version): event
                  for aggregate in unsaved.values() for event in aggregate.pending_events}
        try:
            app.save_reactions([events[key] for key in self._written], trackings, self.event_ids)
        except (AlreadyProcessed, IntegrityError) as exc:
            raise SaveApart(str(exc)) from exc
        return True
