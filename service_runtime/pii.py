"""Personal data encrypted per customer (AES-GCM), erasable by destroying the customer's key.

Personal fields are encrypted before they enter an event, so the immutable log, the topics and
the projections only ever hold ciphertext. Erasure deletes the customer's key from the key store
(crypto-shredding): every copy of their personal data becomes unreadable at once, while the log
keeps its integrity and replays still work (they show the fields as erased).

The key store is a table in the service's own database (PostgreSQL in the stack, the service's
SQLite file embedded); in production a KMS or Vault Transit sits behind the same two methods.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ERASED = "[erased]"
PREFIX = "pii:v1:"
NONCE_BYTES = 12


class KeyStore(Protocol):
    def key(self, customer_id: str, create: bool) -> bytes | None: ...
    def destroy(self, customer_id: str) -> bool: ...


class SQLiteKeyStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
        self._conn.execute("PRAGMA secure_delete=ON")  # a deleted key is overwritten, not left in a free page
        self._conn.execute("CREATE TABLE IF NOT EXISTS pii_keys (customer_id TEXT PRIMARY KEY, key BLOB NOT NULL)")
        self._lock = threading.Lock()

    def key(self, customer_id: str, create: bool) -> bytes | None:
        with self._lock:
            if create:
                self._conn.execute("INSERT OR IGNORE INTO pii_keys VALUES (?, ?)",
                                   (customer_id, AESGCM.generate_key(bit_length=256)))
            row = self._conn.execute("SELECT key FROM pii_keys WHERE customer_id=?", (customer_id,)).fetchone()
        return bytes(row[0]) if row else None

    def destroy(self, customer_id: str) -> bool:
        with self._lock:
            deleted = self._conn.execute("DELETE FROM pii_keys WHERE customer_id=?", (customer_id,)).rowcount > 0
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no copy left in a write-ahead log
            return deleted

    def close(self) -> None:
        self._conn.close()


class PostgresKeyStore:
    """Keys in a table beside the service's events, over a small pool: a connection per lookup
    cost a backend fork and a login, and an encryption made two."""

    def __init__(self, dsn: str, schema: str) -> None:
        from psycopg.sql import SQL, Identifier

        self._dsn = dsn
        self._pool = None
        self._opening = threading.Lock()
        table = SQL("{}.pii_keys").format(Identifier(schema))
        self._create = SQL("CREATE TABLE IF NOT EXISTS {} (customer_id text PRIMARY KEY, key bytea NOT NULL)"
                           ).format(table)
        # One statement: the new key if this call created it, else the one already there. Its
        # snapshot predates a racing creation that committed while the INSERT waited on it: then
        # neither part has a row, and the key is read again.
        self._create_or_select = SQL(
            "WITH new AS (INSERT INTO {0} VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING key) "
            "SELECT key FROM new UNION ALL SELECT key FROM {0} WHERE customer_id = %s").format(table)
        self._select = SQL("SELECT key FROM {} WHERE customer_id = %s").format(table)
        self._delete = SQL("DELETE FROM {} WHERE customer_id = %s").format(table)
        self._vacuum = SQL("VACUUM {}").format(table)
        self._run(self._create)

    def _run(self, statement, params: tuple = ()):
        from service_runtime import database

        def run():
            with self._connections().connection() as conn:
                cursor = conn.execute(statement, params)
                return cursor.fetchone() if cursor.description else cursor.rowcount

        return database.retry_once_if_dropped(run)

    def _connections(self):
        with self._opening:
            if self._pool is None:
                from service_runtime import database

                self._pool = database.checked_pool(self._dsn, max_size=2, autocommit=True)
            return self._pool

    def key(self, customer_id: str, create: bool) -> bytes | None:
        row = self._run(self._create_or_select, (customer_id, AESGCM.generate_key(bit_length=256), customer_id)
                        ) if create else None
        if row is None:
            row = self._run(self._select, (customer_id,))
        return bytes(row[0]) if row else None

    def destroy(self, customer_id: str) -> bool:
        deleted = self._run(self._delete, (customer_id,)) > 0
        self._run(self._vacuum)  # let the dead row's space be reused soon
        return deleted

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


class PersonalData:
    """Encrypts and decrypts one customer's fields; a field whose key is gone reads as ERASED."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def encrypt(self, customer_id: str, value: str) -> str:
        key = self.keys.key(customer_id, create=True)
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, value.encode(), customer_id.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, customer_id: str, token: str) -> str:
        if not token.startswith(PREFIX):
            raise ValueError("not an encrypted personal field")
        key = self.keys.key(customer_id, create=False)
        if key is None:
            return ERASED
        raw = base64.b64decode(token[len(PREFIX):])
        try:
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], customer_id.encode()).decode()
        except InvalidTag:
            return ERASED  # sealed under a key destroyed before this one was made

    def encrypt_fields(self, customer_id: str, fields: dict[str, str | None]) -> dict[str, str | None]:
        return {name: None if value is None else self.encrypt(customer_id, value) for name, value in fields.items()}

    def decrypt_fields(self, customer_id: str, fields: dict[str, str | None]) -> dict[str, str | None]:
        return {name: None if value is None else self.decrypt(customer_id, value) for name, value in fields.items()}

    def erase(self, customer_id: str) -> bool:
        return self.keys.destroy(customer_id)


def personal_data_for(settings, schema: str, service: str) -> PersonalData:
    """The service's key store: a table beside its events (PostgreSQL schema or SQLite file)."""
    if settings.mode == "stack":
        return PersonalData(PostgresKeyStore(settings.pg_dsn, schema))
    return PersonalData(SQLiteKeyStore(settings.var_dir / f"{service}.sqlite"))
