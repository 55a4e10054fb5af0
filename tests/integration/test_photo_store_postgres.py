"""The photo store on PostgreSQL (the stack's): the same contract as on files."""

from service_runtime.blobs import PostgresBlobStore
from service_runtime.settings import Settings
from service_runtime.store import ensure_schema, schema_for
from tests import blob_cases


def test_postgres_photo_store(stack, namespace):
    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"])
    ensure_schema("warehouse", settings)
    store = PostgresBlobStore(settings.pg_dsn, schema_for("warehouse", settings))
    try:
        blob_cases.stores_reads_files_and_erases_by_owner(store)
    finally:
        store.close()


def test_a_filing_and_a_read_are_one_statement_each_without_begin_and_commit(stack, namespace, monkeypatch):
    import psycopg

    settings = Settings(mode="stack", namespace=namespace, pg_dsn=stack["pg_dsn"])
    ensure_schema("warehouse", settings)
    store = PostgresBlobStore(settings.pg_dsn, schema_for("warehouse", settings))
    sent = []
    execute = psycopg.Connection.execute
    monkeypatch.setattr(psycopg.Connection, "execute",
                        lambda self, *args, **kwargs: (sent.append(self.autocommit), execute(self, *args, **kwargs))[1])
    try:
        digest = store.put(b"\x89PNG a parcel's photo", "image/png", "KF-PHOTO-1", "customer-1")
        assert store.filed_under(digest, "KF-PHOTO-1") and store.get(digest).content == b"\x89PNG a parcel's photo"
        assert sent == [True, True, True], "a statement each, committed by itself (no BEGIN, no COMMIT)"
        other = store.put(b"\x89PNG its label", "image/png", "KF-PHOTO-1", "customer-1")
        sent.clear()
        assert store.not_filed_under([digest, other, "0" * 64], "KF-PHOTO-1") == {"0" * 64}
        assert sent == [True], "an inspection's photos checked in one statement"
    finally:
        store.close()
