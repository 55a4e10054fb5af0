"""Synthetic lifecycles (the replay benchmark's input) and the batched, pipelined rebuild, on the
embedded log: contract-valid events, a rebuild equal to the live projection fed record by record,
and re-published events that change nothing."""

from __future__ import annotations

import asyncio

import pytest

from contracts import Envelope, parse_payload
from kongfu.generated_lifecycles import EVENTS_PER_LIFECYCLE, append_lifecycles, lifecycle_records
from service_runtime.eventlog import topic_for
from service_runtime.local_log import LocalEventLog
from service_runtime.projections import LIVE, ProjectionStore
from service_runtime.projectors import ProjectorRunner
from service_runtime.replay import rebuild
from service_runtime.settings import Settings
from services.orders.projections import TIMELINE

LIFECYCLES = 40


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(mode="embedded", var_dir=tmp_path)


def timeline_topics() -> list[str]:
    return [topic_for(s) for s in TIMELINE.sources]


def test_every_synthetic_event_is_valid_against_its_contract_and_keyed_by_its_order():
    records = list(lifecycle_records(7))
    assert len(records) == EVENTS_PER_LIFECYCLE
    orders = set()
    for record in records:
        envelope = Envelope.model_validate_json(record.value)
        parse_payload(envelope.type, envelope.schema_version, envelope.payload)
        assert record.key == str(envelope.order_id).encode()
        orders.add(envelope.order_id)
    assert len(orders) == 1
    assert len({Envelope.model_validate_json(r.value).event_id for r in records}) == EVENTS_PER_LIFECYCLE


def test_a_rebuild_equals_the_live_projection_and_republished_events_change_nothing(settings):
    assert append_lifecycles(settings, LIFECYCLES) == LIFECYCLES * EVENTS_PER_LIFECYCLE
    log = LocalEventLog(settings.var_dir / "eventlog.sqlite")
    store = ProjectionStore(settings, "orders", "orders")

    # Live: one record at a time, as a projector that is never behind would see them.
    ends = {t: last for t, last in log.end_offsets_inclusive(timeline_topics()).items()}
    live_projector = ProjectorRunner([(TIMELINE, timeline_topics())], store, log, "test")
    for record in log.read(timeline_topics(), {}, 100_000):
        live_projector.apply([record])
    live = store.checksum(TIMELINE.name, LIVE)
    assert live[1] == LIFECYCLES * EVENTS_PER_LIFECYCLE

    rebuilt = asyncio.run(rebuild(TIMELINE, store, log, timeline_topics()))
    assert rebuilt == live

    # The same lifecycles published once more (same event ids): the rebuild is unchanged.
    asyncio.run(log.publish(log_records_again(log)))
    assert log.end_offsets_inclusive(timeline_topics()) != ends
    assert asyncio.run(rebuild(TIMELINE, store, log, timeline_topics())) == live
    store.close()


def log_records_again(log: LocalEventLog):
    from service_runtime.eventlog import OutgoingRecord

    return [OutgoingRecord(r.topic, r.key, r.value, r.headers) for r in log.read(timeline_topics(), {}, 100_000)]
