"""Durable timers on PostgreSQL (the stack's store): the same cases as on SQLite."""

import pytest

from service_runtime.settings import Settings
from service_runtime.store import ensure_schema, store_env
from tests import timer_cases


@pytest.mark.parametrize("case", timer_cases.CASES, ids=lambda case: case.__name__)
def test_timers_on_postgres(case, stack, namespace):
    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"])
    ensure_schema("reminders", settings)
    env = store_env("reminders", settings)
    case(lambda: timer_cases.RemindersApp(env=env))
