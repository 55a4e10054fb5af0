"""Listing pages on PostgreSQL (the stack's store): the same cases as on SQLite."""

import pytest

from service_runtime.projections import ProjectionStore
from service_runtime.settings import Settings, get_settings
from service_runtime.store import ensure_schema, schema_for
from tests import listing_cases
from tests.support import JWT_SECRET


@pytest.fixture
def store(stack, namespace, monkeypatch):
    monkeypatch.setenv("KONGFU_JWT_SECRET", JWT_SECRET)
    get_settings.cache_clear()
    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"])
    ensure_schema("orders", settings)
    store = ProjectionStore(settings, schema_for("orders", settings), "orders")
    yield store
    store.close()
    get_settings.cache_clear()


@pytest.mark.parametrize("case", listing_cases.CASES, ids=lambda case: case.__name__)
def test_listing_pages_on_postgres(case, store, monkeypatch):
    case(store, monkeypatch)


def test_a_read_is_one_statement_without_begin_and_commit(store, monkeypatch):
    """A projection read is a single SELECT, atomic by itself: wrapped in a transaction it was
    three round trips (a timeline page, a listing, a position)."""
    import psycopg

    from service_runtime.projections import Entry

    placed = Entry(key="order-1", at="2026-11-29T10:00:00", event_id="e-1", data={"stage": "placed"})
    store.apply("timeline", [placed], {"kongfu.orders.events:0": 4})
    opened = []
    transaction = psycopg.Connection.transaction
    monkeypatch.setattr(psycopg.Connection, "transaction",
                        lambda self, *args, **kwargs: (opened.append(1), transaction(self, *args, **kwargs))[1])
    assert store.entries("timeline", "order-1") == [{"stage": "placed"}]
    assert store.position("timeline", "kongfu.orders.events:0") == 4
    assert store.positions("timeline") == {"kongfu.orders.events:0": 4}
    assert store.entries_by_key("timeline") == {"order-1": [{"stage": "placed"}]}
    assert store.run_sql("SELECT count(*) FROM {entries} WHERE projection = ?", ["timeline"]) == [(1,)]
    assert store.checksum("timeline")[1] == 1
    assert opened == [], f"{len(opened)} reads opened a transaction"
