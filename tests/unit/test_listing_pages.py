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


@pytest.mark.parametrize("case", listing_cases.CASES, ids=lambda case: case.__name__)
def test_listing_pages_on_sqlite(case, store, monkeypatch):
    case(store, monkeypatch)
