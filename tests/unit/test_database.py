"""One retry on a dropped connection; a database still away is DatabaseUnavailable (a 503)."""

import psycopg
import pytest

from service_runtime.database import DatabaseUnavailable, retry_once_if_dropped


def failing(times: int, error: Exception):
    calls = []

    def operation() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "done"

    return operation, calls


def test_a_dropped_connection_is_retried_once():
    operation, calls = failing(1, psycopg.OperationalError("server closed the connection unexpectedly"))
    assert retry_once_if_dropped(operation) == "done"
    assert len(calls) == 2


def test_a_database_still_away_is_unavailable_after_one_retry():
    operation, calls = failing(5, psycopg.OperationalError("connection refused"))
    with pytest.raises(DatabaseUnavailable):
        retry_once_if_dropped(operation)
    assert len(calls) == 2


def test_other_errors_are_not_retried():
    operation, calls = failing(1, psycopg.errors.UniqueViolation("duplicate key"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        retry_once_if_dropped(operation)
    assert len(calls) == 1
