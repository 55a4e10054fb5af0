"""Listing pages on SQLite (the embedded store): see tests/listing_cases.py."""

import pytest

from service_runtime.projections import ProjectionStore
from service_runtime.settings import Settings
from tests import listing_cases
from tests.support import JWT_SECRET


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("KONGFU_JWT_SECRET", JWT_SECRET)
    from service_runtime.settings import get_settings
    get_settings.cache_clear()
    store = ProjectionStore(Settings(mode="embedded", var_dir=tmp_path, jwt_secret=JWT_SECRET), "unused", "orders")
    yield store
    store.close()
    get_settings.cache_clear()


def test_a_page_reads_page_sized_rows(store, monkeypatch):
    listing_cases.a_page_reads_page_sized_rows(store, monkeypatch)


def test_the_page_query_uses_the_index(store):
    listing_cases.the_page_query_uses_the_index(store)


def test_pages_are_stable_while_rows_are_inserted(store):
    listing_cases.pages_are_stable_while_rows_are_inserted(store)
