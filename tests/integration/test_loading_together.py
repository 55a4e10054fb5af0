"""Aggregates loaded together on PostgreSQL: a command that needs several aggregates (an item and
its storage timers, a parcel and its deadlines) reads them in one statement, each as fresh as a
load of its own, and a cached one brought up to date with what another process saved."""

from __future__ import annotations

import uuid

import pytest

from service_runtime.settings import Settings
from service_runtime.store import ServiceApplication, ensure_schema, store_env
from service_runtime.tracing import TracedAggregate
from tests.integration.test_aggregate_cache import Tally, TallyApp, other_process_marks


class Other(TracedAggregate):
    """Another kind of aggregate: found by its id, it is not a Tally."""


@pytest.fixture
def env(stack, namespace):
    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"])
    ensure_schema("tally", settings)
    return store_env("tally", settings)


def counting_reads(app: ServiceApplication) -> list[str]:
    """Every read of aggregate events the app's recorder makes from now on, by kind."""
    reads: list[str] = []
    recorder = app.recorder
    one, several = recorder.select_events, recorder.select_events_after
    recorder.select_events = lambda *a, **k: reads.append("one") or one(*a, **k)
    recorder.select_events_after = lambda *a, **k: reads.append("together") or several(*a, **k)
    return reads


def test_aggregates_loaded_together_take_one_read_and_are_current(env):
    writer = TallyApp(env=env)
    first, second, other = Tally(), Tally(), Other()
    first.mark("a")
    writer.save(first, second, other)
    writer.close()

    app = TallyApp(env=env)
    try:
        app.find(second.id, Tally)  # cached at version 1
        other_process_marks(env, str(second.id), "elsewhere")  # version 2, unknown to the cache
        missing = uuid.uuid4()
        reads = counting_reads(app)
        with app.loading_together(first.id, second.id, other.id, missing):
            loaded_first, loaded_second = app.find(first.id, Tally), app.find(second.id, Tally)
            assert app.find(other.id, Tally) is None  # another kind finds nothing, as `find` does
            assert app.find(missing, Tally) is None
            assert reads == ["together"]
            assert loaded_first.marks == ["a"]
            assert loaded_second.marks == ["elsewhere"] and loaded_second.version == 2

            # Each is handed out once: a second find reads again (a retry after a conflict).
            again = app.find(first.id, Tally)
            assert reads == ["together", "one"] and again is not loaded_first and again.marks == ["a"]
        assert app.repository.cache.get(second.id).version == 2  # the cache learnt it too

        # Outside the block, finds read one by one again.
        app.find(first.id, Tally)
        assert reads == ["together", "one", "one"]

        # A copy loaded together, changed and saved, is checked on its version like any other.
        with app.loading_together(first.id):
            mine = app.find(first.id, Tally)
        mine.mark("b")
        app.save(mine)
        assert app.find(first.id, Tally).marks == ["a", "b"]
    finally:
        app.close()
