"""The customer key store on PostgreSQL: one key per customer however many create it at once,
gone once destroyed, and lookups over pooled connections rather than a login each."""

from __future__ import annotations

import threading

import psycopg

from service_runtime.pii import ERASED, PersonalData, PostgresKeyStore
from service_runtime.settings import Settings
from service_runtime.store import ensure_schema, schema_for


def test_keys_are_created_once_and_shredded_and_lookups_share_connections(stack, namespace, monkeypatch):
    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"])
    ensure_schema("orders", settings)
    keys = PostgresKeyStore(settings.pg_dsn, schema_for("orders", settings))
    try:
        connects = []
        connect = psycopg.Connection.connect
        counted = classmethod(lambda cls, *a, **k: connects.append(1) or connect.__func__(cls, *a, **k))
        monkeypatch.setattr(psycopg.Connection, "connect", counted)
        monkeypatch.setattr(psycopg, "connect", psycopg.Connection.connect)
        created: list[bytes | None] = []
        racers = [threading.Thread(target=lambda: created.append(keys.key("c-1", create=True))) for _ in range(6)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        assert len(created) == 6 and created[0] is not None and set(created) == {created[0]}
        personal = PersonalData(keys)
        for _ in range(20):
            token = personal.encrypt("c-2", "Li Lei, 1 Dock Road")
            assert personal.decrypt("c-2", token) == "Li Lei, 1 Dock Road"
        assert len(connects) <= 2  # the pool's, not one per lookup (there were 60 and more)
        assert keys.key("c-1", create=False) == created[0]
        assert keys.destroy("c-2") and personal.decrypt("c-2", token) == ERASED
        assert keys.key("c-2", create=False) is None
    finally:
        keys.close()
