"""The event store's saves on PostgreSQL, each one statement (one round trip): a reaction's
events, position and handled event id land together or not at all; a repeated event id or a
position not ahead is "already processed" and writes nothing; a stale aggregate version is a
conflict, not a duplicate; notification ids come back in order."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError, Tracking

from service_runtime.settings import Settings
from service_runtime.store import AlreadyProcessed, ServiceApplication, ensure_schema, store_env
from service_runtime.tracing import TracedAggregate


class Tally(TracedAggregate):
    @event("Opened")
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


@pytest.fixture
def app(stack, namespace):
    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"])
    ensure_schema("tallies", settings)
    application = ServiceApplication(env=store_env("tallies", settings))
    yield application
    application.close()


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    """Every statement the store sends, as text."""
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(self, query, params=None, **kwargs):
        sent.append(query.as_string(self) if hasattr(query, "as_string")
                    else query.decode() if isinstance(query, bytes) else str(query))
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    return sent


def stored(app: ServiceApplication) -> list:
    return list(app.recorder.select_notifications(start=1, limit=1000))


def test_a_reaction_is_one_statement_and_lands_whole(app, statements):
    tally = Tally()
    tally.count_one()
    recordings = app.save_reaction(tally, tracking=Tracking("kongfu.orders.events:0", 7), event_id="e-1")

    assert len(statements) == 1 and "kongfu_save" in statements[0]
    assert [r.notification.id for r in recordings] == [n.id for n in stored(app)]
    assert [r.notification.id for r in recordings] == sorted(r.notification.id for r in recordings)
    assert app.recorder.max_tracking_id("kongfu.orders.events:0") == 7
    assert app.repository.get(tally.id).count == 1


def test_a_repeated_event_id_or_an_old_position_writes_nothing(app):
    first = Tally()
    app.save_reaction(first, tracking=Tracking("kongfu.orders.events:0", 7), event_id="e-1")
    before = stored(app)

    with pytest.raises(AlreadyProcessed, match="already processed"):  # same event, a later offset
        app.save_reaction(Tally(), tracking=Tracking("kongfu.orders.events:0", 8), event_id="e-1")
    with pytest.raises(AlreadyProcessed, match="Failed to record tracking"):  # new event, position not ahead
        app.save_reaction(Tally(), tracking=Tracking("kongfu.orders.events:0", 7), event_id="e-2")

    assert stored(app) == before
    assert app.recorder.max_tracking_id("kongfu.orders.events:0") == 7
    # Neither refusal left the inbox or the position half-written: e-2 at 8 still goes through.
    app.save_reaction(Tally(), tracking=Tracking("kongfu.orders.events:0", 8), event_id="e-2")
    assert len(stored(app)) == len(before) + 1


def test_a_stale_version_is_a_conflict_and_takes_the_inbox_entry_back(app):
    tally = Tally()
    app.save(tally)
    stale = app.repository.get(tally.id)
    tally.count_one()
    app.save(tally)
    stale.count_one()  # the same version again

    with pytest.raises(IntegrityError) as refused:
        app.save_reaction(stale, tracking=Tracking("kongfu.claims.events:1", 3), event_id="e-9")
    assert not isinstance(refused.value, AlreadyProcessed)
    assert app.recorder.max_tracking_id("kongfu.claims.events:1") is None
    fresh = app.repository.get(tally.id)
    fresh.count_one()
    app.save_reaction(fresh, tracking=Tracking("kongfu.claims.events:1", 3), event_id="e-9")  # the retry lands
    assert app.repository.get(tally.id).count == 2


def test_reactions_saved_together_are_one_statement_and_land_whole(app, statements):
    tallies = [Tally(), Tally()]
    tallies[0].count_one()
    app.save_reactions(tallies, [Tracking("kongfu.orders.events:0", 7), Tracking("kongfu.warehouse.events:1", 4)],
                       ["e-1", "e-2", "e-3"])

    assert len(statements) == 1 and "kongfu_save" in statements[0]
    assert len(stored(app)) == 3
    assert app.recorder.max_tracking_id("kongfu.orders.events:0") == 7
    assert app.recorder.max_tracking_id("kongfu.warehouse.events:1") == 4
    with pytest.raises(AlreadyProcessed):  # each of the event ids is in the inbox
        app.save_reaction(Tally(), tracking=Tracking("kongfu.orders.events:0", 8), event_id="e-2")


def test_one_repeated_event_or_one_old_position_among_reactions_saved_together_writes_nothing(app):
    app.save_reaction(Tally(), tracking=Tracking("kongfu.orders.events:0", 7), event_id="e-1")
    before = stored(app)

    with pytest.raises(AlreadyProcessed, match="already processed"):
        app.save_reactions([Tally()], [Tracking("kongfu.orders.events:0", 9)], ["e-5", "e-1"])
    with pytest.raises(AlreadyProcessed, match="Failed to record tracking"):  # one of two positions not ahead
        app.save_reactions([Tally()], [Tracking("kongfu.claims.events:0", 3), Tracking("kongfu.orders.events:0", 7)],
                           ["e-6"])

    assert stored(app) == before
    assert app.recorder.max_tracking_id("kongfu.claims.events:0") is None
    app.save_reactions([Tally()], [Tracking("kongfu.claims.events:0", 3), Tracking("kongfu.orders.events:0", 9)],
                       ["e-5", "e-6"])  # neither refusal left an event id or a position behind
    assert len(stored(app)) == len(before) + 1


def test_a_reaction_without_new_events_records_its_position_and_event_id(app):
    app.save_reaction(tracking=Tracking("kongfu.fraud.events:2", 11), event_id=str(uuid.uuid4()))
    assert app.recorder.max_tracking_id("kongfu.fraud.events:2") == 11
    assert stored(app) == []
    app.save_reaction(Tally(), tracking=None, event_id=None)  # neither: a plain save, as before
    assert len(stored(app)) == 1


def test_a_position_alone_is_one_statement_outside_a_transaction(app, statements, monkeypatch):
    """The relay's position and a consumer's past messages without a handler: the upsert alone,
    one round trip, where the library opened a transaction around it (three)."""
    transactions = []
    transaction = psycopg.Connection.transaction
    monkeypatch.setattr(psycopg.Connection, "transaction",
                        lambda self, *args, **kwargs: transactions.append(1) or transaction(self, *args, **kwargs))

    app.recorder.insert_tracking(Tracking("outbox-relay", 5))

    assert len(statements) == 1 and "INSERT" in statements[0] and transactions == []
    assert app.recorder.max_tracking_id("outbox-relay") == 5
    with pytest.raises(IntegrityError, match="Failed to record tracking"):  # not ahead: nothing written
        app.recorder.insert_tracking(Tracking("outbox-relay", 5))
    app.recorder.insert_tracking(Tracking("outbox-relay", 6))
    assert app.recorder.max_tracking_id("outbox-relay") == 6


def test_the_relay_s_position_and_its_next_read_are_one_statement(app, statements):
    tallies = [Tally() for _ in range(3)]
    app.save(*tallies)
    ids = [n.id for n in stored(app)]
    statements.clear()

    after_first = app.recorder.insert_tracking_then_select(Tracking("outbox-relay", ids[0]), limit=10)

    assert len(statements) == 1
    assert [n.id for n in after_first] == ids[1:]
    assert [n.originator_id for n in after_first] == [n.originator_id for n in stored(app)[1:]]
    assert app.recorder.max_tracking_id("outbox-relay") == ids[0]
    assert [n.id for n in app.recorder.insert_tracking_then_select(Tracking("outbox-relay", ids[1]), limit=1)] \
        == ids[2:]
    assert app.recorder.insert_tracking_then_select(Tracking("outbox-relay", ids[2]), limit=10) == []  # the end
    with pytest.raises(IntegrityError, match="Failed to record tracking"):  # not ahead: refused, nothing read
        app.recorder.insert_tracking_then_select(Tracking("outbox-relay", ids[1]), limit=10)
    assert app.recorder.max_tracking_id("outbox-relay") == ids[2]


def test_loads_saves_and_positions_send_statements_rendered_once(app, monkeypatch):
    """psycopg renders a composed statement on every execute, quoting its identifiers anew; the
    statements of every load, refresh, save and position are rendered when the store opens."""
    from psycopg import sql

    rendered = []
    as_bytes = sql.Identifier.as_bytes
    monkeypatch.setattr(sql.Identifier, "as_bytes", lambda self, context=None: (rendered.append(self), as_bytes(self, context))[1])
    tally = Tally()
    app.save(tally)
    app.repository.get(tally.id)  # a whole history, then cached
    tally = app.repository.get(tally.id)
    tally.count_one()
    app.save_reaction(tally, tracking=Tracking("kongfu.orders.events:0", 3), event_id="e-rendered")
    assert app.repository.get(tally.id).count == 1  # a refresh: the events after the cached version
    app.recorder.insert_tracking(Tracking("kongfu.orders.events:1", 5))
    app.recorder.insert_tracking_then_select(Tracking(app.name, 1), limit=10)
    assert app.recorder.max_tracking_id("kongfu.orders.events:0") == 3
    assert rendered == []
