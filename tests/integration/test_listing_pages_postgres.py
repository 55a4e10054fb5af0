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
