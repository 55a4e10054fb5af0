"""The per-process aggregate cache on PostgreSQL: another process saving the same aggregate is
seen by the next load, and a copy that went stale before its save is refused on its version
(409 or a retry on fresh state), never written over the other process's change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError

from service_runtime.settings import Settings
from service_runtime.store import ServiceApplication, ensure_schema, store_env
from service_runtime.tracing import TracedAggregate

ROOT = Path(__file__).resolve().parents[2]


class Tally(TracedAggregate):
    @event("Opened")
    def __init__(self) -> None:
        self.marks: list[str] = []

    @event("Marked")
    def mark(self, by: str) -> None:
        self.marks.append(by)


class TallyApp(ServiceApplication):
    name = "tally"


def other_process_marks(env: dict[str, str], tally_id: str, by: str) -> None:
    """Another Python process on the same store loads the tally, marks it and saves it."""
    code = ("import json, sys, uuid; from tests.integration.test_aggregate_cache import TallyApp; "
            "env = json.loads(sys.argv[1]); app = TallyApp(env=env); "
            "t = app.repository.get(uuid.UUID(sys.argv[2])); t.mark(sys.argv[3]); app.save(t); app.close()")
    import json

    subprocess.run([sys.executable, "-c", code, json.dumps(env), tally_id, by], cwd=ROOT, check=True, timeout=60)


@pytest.fixture
def env(stack, namespace):
    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"])
    ensure_schema("tally", settings)
    return store_env("tally", settings)


def test_a_stale_cached_copy_never_overwrites_another_process(env):
    app = TallyApp(env=env)
    try:
        assert app.repository.cache is not None and app.repository.fastforward
        tally = Tally()
        app.save(tally)
        mine = app.repository.get(tally.id)  # cached at version 1; `mine` is a copy
        assert app.repository.cache.get(tally.id).version == 1

        other_process_marks(env, str(tally.id), "other")  # version 2, saved by another process

        mine.mark("me")  # based on version 1: stale
        with pytest.raises(IntegrityError):  # a 409 at a gateway
            app.save(mine)
        fresh = app.repository.get(tally.id)  # the cache fast-forwards to the other process's save
        assert fresh.marks == ["other"] and fresh.version == 2

        racers = iter(["racer"])

        def change():  # what a command does: load, change, save; run again on a version conflict
            current = app.repository.get(tally.id)
            racer = next(racers, None)
            if racer:  # another process saves between this load and this save
                other_process_marks(env, str(tally.id), racer)
            current.mark("me")
            return [current], None

        app.save_with_retry(change)
    finally:
        app.close()

    uncached = TallyApp(env={**env, "AGGREGATE_CACHE_MAXSIZE": ""})
    try:
        assert uncached.repository.cache is None
        stored = uncached.repository.get(tally.id)
        # Every writer's mark is there exactly once: nothing was written over.
        assert sorted(stored.marks) == sorted(["other", "racer", "me"])
    finally:
        uncached.close()
