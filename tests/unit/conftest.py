"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from kongfu.generated_lifecycles import append_lifecycles
from service_runtime.local_log import LocalEventLog
from service_runtime.projections import ProjectionStore
from service_runtime.settings import Settings


@pytest.fixture
def lifecycles_and_warehouse_store(tmp_path):
    """An embedded log holding five generated lifecycles, and the warehouse's projection store."""
    settings = Settings(mode="embedded", var_dir=tmp_path)
    append_lifecycles(settings, 5)
    log = LocalEventLog(tmp_path / "eventlog.sqlite")
    store = ProjectionStore(settings, "warehouse", "warehouse")
    yield log, store
    store.close()
