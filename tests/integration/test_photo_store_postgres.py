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


