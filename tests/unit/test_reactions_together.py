"""A consumer saves a fetched batch's reactions in one transaction, and that changes nothing but
the number of transactions: the same events, versions, positions and handled event ids as one
save per reaction; a later reaction decides on what an earlier one changed; whatever a joint save
could get wrong gives the batch up before anything is written, and the records are handled one by
one (`service_runtime/reactions.py`)."""

from __future__ import annotations

import asyncio
import importlib
import json
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from prometheus_client import REGISTRY

from kongfu.generated_lifecycles import lifecycle_records
from service_runtime.aggregate_cache import Unsaved
from service_runtime.consumer import ConsumerRunner
from service_runtime.eventlog import topic_for
from service_runtime.local_log import LocalEventLog
from service_runtime.postgres_recorder import INBOX_KWARG
from service_runtime.reactions import Reactions, SaveApart
from service_runtime.settings import Settings


def started(service: str, var_dir) -> Any:
    return importlib.import_module(f"services.{service}.bootstrap").bootstrap(Settings(mode="embedded", var_dir=var_dir))


def topics_of(parts: Any) -> list[str]:
    return [topic_for(service) for service in parts.consumes]


def interleaved_lifecycles(log: LocalEventLog, topics: list[str], lifecycles: int) -> list[Any]:
    """Several lifecycles' records, published in turns, as concurrent orders reach a consumer."""
    each = [list(lifecycle_records(n)) for n in range(lifecycles)]
    records = [r for step in zip(*each) for r in step]
    asyncio.run(log.publish(records))
    return log.read(topics, {}, 1000)


def stored(parts: Any) -> list[tuple[Any, int, str]]:
    """What the store holds, in the order it was written, without when (the clock moves)."""
    return [(n.originator_id, n.originator_version, n.topic)
            for n in parts.app.recorder.select_notifications(start=1, limit=100_000)]


def counting_saves(parts: Any) -> list[dict[str, Any]]:
    saves: list[dict[str, Any]] = []
    insert_events = parts.app.recorder.insert_events
    parts.app.recorder.insert_events = lambda *a, **k: saves.append(k) or insert_events(*a, **k)
    return saves


def counting_positions(parts: Any) -> list[Tracking]:
    """Positions recorded on their own, outside a save."""
    positions: list[Tracking] = []
    insert_tracking = parts.app.recorder.insert_tracking
    parts.app.recorder.insert_tracking = lambda tracking: positions.append(tracking) or insert_tracking(tracking)
    return positions


@pytest.mark.parametrize("service", ["claims", "purchasing", "logistics", "warehouse"])
def test_a_batch_saved_together_stores_what_one_save_per_reaction_stores(service, tmp_path):
    alone, together = started(service, tmp_path / "alone"), started(service, tmp_path / "together")
    try:
        log = LocalEventLog(tmp_path / "eventlog.sqlite")
        records = interleaved_lifecycles(log, topics_of(together), lifecycles=3)
        saves_alone, saves_together = counting_saves(alone), counting_saves(together)
        positions_alone, positions_together = counting_positions(alone), counting_positions(together)
        joint = REGISTRY.get_sample_value("kongfu_reaction_saves_total", {"service": service, "how": "together"}) or 0

        runner_alone = ConsumerRunner(service, alone.app, log, topics_of(alone), alone.handlers)
        outcomes_alone = [asyncio.run(runner_alone.handle_batch([record]))[0] for record in records]
        runner_together = ConsumerRunner(service, together.app, log, topics_of(together), together.handlers)
        outcomes_together = asyncio.run(runner_together.handle_batch(records))

        assert outcomes_together == outcomes_alone
        assert "handled" in outcomes_alone
        assert stored(together) == stored(alone)  # the same events, in the same order
        assert len(saves_alone) >= 3 and len(saves_together) == 1  # one transaction for the batch
        assert REGISTRY.get_sample_value("kongfu_reaction_saves_total", {"service": service, "how": "together"}) \
            == joint + 1
        # Its positions: per partition, the batch's last record's, those that changed nothing
        # included, with no statement of their own (one by one, those wait a second apart).
        last_read = {f"{record.topic}:{record.partition}": record.offset for record in records}
        assert {t.application_name: t.notification_id for t in saves_together[0]["trackings"]} == last_read
        assert positions_alone and positions_together == []
        for name, offset in last_read.items():
            assert together.app.recorder.max_tracking_id(name) == offset
        assert sorted(map(str, saves_together[0][INBOX_KWARG])) == sorted(
            str(event_id) for save in saves_alone for event_id in save[INBOX_KWARG])
        # A batch that saves nothing is not counted as saved together.
        unhandled = [r for r in records if json.loads(r.value)["type"] not in together.handlers]
        assert len(unhandled) > 1
        assert asyncio.run(runner_together.handle_batch(unhandled)) == ["not handled"] * len(unhandled)
        assert REGISTRY.get_sample_value("kongfu_reaction_saves_total", {"service": service, "how": "together"}) \
            == joint + 1
        # Every handled event's id is in the inbox: the batch again changes nothing.
        again_alone = [asyncio.run(runner_alone.handle_batch([record]))[0] for record in records]
        assert asyncio.run(runner_together.handle_batch(records)) == again_alone
        assert stored(together) == stored(alone)
    finally:
        alone.app.close()
        together.app.close()


def test_a_joint_save_that_fails_writes_nothing_and_the_records_are_saved_one_by_one(tmp_path):
    parts = started("claims", tmp_path / "claims")
    reference = started("claims", tmp_path / "reference")
    try:
        log = LocalEventLog(tmp_path / "eventlog.sqlite")
        records = interleaved_lifecycles(log, topics_of(parts), lifecycles=2)
        saves = []
        insert_events = parts.app.recorder.insert_events

        def conflict_once(*args: Any, **kwargs: Any) -> Any:
            saves.append(kwargs)
            if len(kwargs[INBOX_KWARG]) > 1 and len(saves) == 1:
                raise IntegrityError("a command saved one of these aggregates meanwhile")
            return insert_events(*args, **kwargs)

        parts.app.recorder.insert_events = conflict_once
        apart = REGISTRY.get_sample_value("kongfu_reaction_saves_total", {"service": "claims", "how": "apart"}) or 0
        outcomes = asyncio.run(ConsumerRunner("claims", parts.app, log, topics_of(parts),
                                              parts.handlers).handle_batch(records))
        expected = asyncio.run(ConsumerRunner("claims", reference.app, log, topics_of(reference),
                                              reference.handlers).handle_batch(records))

        assert outcomes == expected
        # The failed joint save, then one save per changing reaction.
        assert len(saves[0][INBOX_KWARG]) > 1
        assert len(saves) > 2 and all(len(s[INBOX_KWARG]) == 1 for s in saves[1:])
        assert stored(parts) == stored(reference)
        assert REGISTRY.get_sample_value("kongfu_reaction_saves_total", {"service": "claims", "how": "apart"}) \
            == apart + 1
    finally:
        parts.app.close()
        reference.app.close()


class Noted:
    def __init__(self, originator_version: int) -> None:
        self.originator_version = originator_version


class Changed:
    """An aggregate's stand-in: its id and unsaved events."""

    def __init__(self, aggregate_id: str, *versions: int) -> None:
        self.id = aggregate_id
        self.pending_events = [Noted(v) for v in versions]


def test_a_reaction_that_did_not_start_from_the_unsaved_state_gives_the_batch_up():
    reactions, unsaved = Reactions(), Unsaved()
    assert reactions.add([Changed("parcel", 1)], unsaved, "e1") == "handled"
    # Made anew (or loaded from the store), not from the unsaved parcel: it would replace it.
    with pytest.raises(SaveApart):
        reactions.add([Changed("parcel", 1, 2)], unsaved, "e2")
    # A copy of the unsaved one, then changed, continues it.
    continued = unsaved.copy_of("parcel")
    continued.pending_events.append(Noted(2))
    assert reactions.add([continued], unsaved, "e2") == "handled"
    # A copy of an earlier state of it does not.
    stale = Changed("parcel", 1, 2)
    unsaved._handed_out[id(stale)] = stale
    unsaved["parcel"] = Changed("parcel", 1, 2, 3)
    with pytest.raises(SaveApart):
        reactions.add([stale], unsaved, "e3")


def test_an_event_twice_in_one_batch_gives_the_batch_up():
    reactions, unsaved = Reactions(), Unsaved()
    reactions.add([Changed("a", 1)], unsaved, "e1")
    with pytest.raises(SaveApart):
        reactions.add([Changed("b", 1)], unsaved, "e1")


def test_a_reaction_that_adds_nothing_to_the_unsaved_state_is_unchanged():
    reactions, unsaved = Reactions(), Unsaved()
    reactions.add([Changed("a", 1)], unsaved, "e1")
    assert reactions.add([unsaved.copy_of("a")], unsaved, "e2") == "unchanged"
    changed = unsaved.copy_of("a")
    changed.pending_events.append(Noted(2))
    assert reactions.add([changed], unsaved, "e3") == "handled"
    assert reactions.event_ids == ["e1", "e3"]
