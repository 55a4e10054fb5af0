"""The pools' check before lending a connection: a connection whose backend the server ended (a
restart, a terminated session) is refused, so the pool replaces it; a healthy idle one is lent
without a round trip to the server."""

from __future__ import annotations

import psycopg
import psycopg_pool
import pytest

from service_runtime import database
from service_runtime.settings import Settings
from service_runtime.store import ServiceApplication, ensure_schema, store_env
from tests.support import wait_until


@pytest.fixture
def round_trips(monkeypatch) -> list[object]:
    """The full check (a round trip) counted each time it runs."""
    calls: list[object] = []
    full_check = psycopg_pool.ConnectionPool.check_connection

    def counted(conn):
        calls.append(conn)
        full_check(conn)

    monkeypatch.setattr(psycopg_pool.ConnectionPool, "check_connection", staticmethod(counted))
    return calls


def terminate(dsn: str, conn: psycopg.Connection) -> None:
    pid = conn.info.backend_pid
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        wait_until(lambda: admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)
                                         ).fetchone()[0] == 0, what="the backend to end")


def test_a_healthy_connection_is_lent_without_a_round_trip(stack, round_trips):
    with psycopg.connect(stack["pg_dsn"], autocommit=True) as conn:
        database.connection_alive(conn)
        assert round_trips == []


def test_a_connection_the_server_ended_is_refused(stack, round_trips):
    with psycopg.connect(stack["pg_dsn"], autocommit=True) as conn:
        terminate(stack["pg_dsn"], conn)
        with pytest.raises(psycopg.OperationalError):
            database.connection_alive(conn)
        assert len(round_trips) == 1  # the socket said so; the full check confirmed it


def test_the_event_store_replaces_a_connection_the_server_ended(stack, namespace, round_trips):
    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"])
    ensure_schema("checks", settings)
    env = {**store_env("checks", settings), "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "0"}
    app = ServiceApplication(env=env)
    try:
        app.recorder.max_tracking_id("a:0")
        pool = app.recorder.datastore.pool
        with pool.connection() as conn:
            lent = conn
        assert round_trips == []
        terminate(stack["pg_dsn"], lent)
        assert app.recorder.max_tracking_id("a:0") is None  # answered on a fresh connection
        with pool.connection() as conn:
            assert conn is not lent
    finally:
        app.close()
