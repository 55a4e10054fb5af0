"""Content-addressed blobs (inspection photos) behind one interface, with two adapters.

A blob's name is the sha256 of its bytes, so events carry only that hash: the same upload twice
is one blob, and nothing personal is in the log. Each blob is filed under the items (`subject`)
and customers (`owner`) it was stored for: readers check access against the subject, and a
customer's erasure deletes the blobs no other customer's item still refers to.

Embedded: files under `<var_dir>/blobs/<store>/` (the content, its media type, and one marker file
per owner and subject). Stack: two tables in the service's PostgreSQL schema.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from service_runtime import database
from service_runtime.settings import Settings


@dataclass(frozen=True)
class Blob:
    digest: str  # sha256, hex
    media_type: str
    content: bytes


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class BlobStore(Protocol):
    def put(self, content: bytes, media_type: str, subject: str, owner: str) -> str: ...

    def get(self, digest: str) -> Blob | None: ...

    def filed_under(self, digest: str, subject: str) -> bool: ...

    def not_filed_under(self, digests: list[str], subject: str) -> set[str]: ...

    def erase_owner(self, owner: str) -> int: ...


def _key(text: str) -> str:
    """A file name for any id (customer ids and codes may hold characters a path may not)."""
    return hashlib.sha256(text.encode()).hexdigest()


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put(self, content: bytes, media_type: str, subject: str, owner: str) -> str:
        digest = digest_of(content)
        folder = self._dir(digest)
        (folder / "subjects").mkdir(parents=True, exist_ok=True)
        (folder / "owners").mkdir(exist_ok=True)
        if not (folder / "content").exists():  # written once, then renamed: a reader never sees half
            partial = folder / f"content.{_key(owner)[:8]}.part"
            partial.write_bytes(content)
            (folder / "media_type").write_text(media_type)
            partial.replace(folder / "content")
        (folder / "subjects" / _key(subject)).touch()
        (folder / "owners" / _key(owner)).touch()
        filing = self.root / "by-owner" / _key(owner) / digest
        filing.mkdir(parents=True, exist_ok=True)
        (filing / _key(subject)).touch()
        return digest

    def get(self, digest: str) -> Blob | None:
        folder = self._dir(digest)
        try:
            return Blob(digest, (folder / "media_type").read_text(), (folder / "content").read_bytes())
        except (FileNotFoundError, NotADirectoryError):
            return None

    def filed_under(self, digest: str, subject: str) -> bool:
        return (self._dir(digest) / "subjects" / _key(subject)).exists() and self.get(digest) is not None

    def not_filed_under(self, digests: list[str], subject: str) -> set[str]:
        return {digest for digest in digests if not self.filed_under(digest, subject)}

    def erase_owner(self, owner: str) -> int:
        by_owner = self.root / "by-owner" / _key(owner)
        erased = 0
        for filing in sorted(by_owner.glob("*")) if by_owner.exists() else []:
            folder = self._dir(filing.name)
            for subject in filing.iterdir():  # the owner's items no longer show the blob
                (folder / "subjects" / subject.name).unlink(missing_ok=True)
                subject.unlink()
            (folder / "owners" / _key(owner)).unlink(missing_ok=True)
            if (folder / "owners").exists() and not any((folder / "owners").iterdir()):
                for name in ("content", "media_type"):  # no other customer's item refers to it
                    (folder / name).unlink(missing_ok=True)
                erased += 1
            filing.rmdir()
        return erased


class PostgresBlobStore:
    def __init__(self, dsn: str, schema: str) -> None:
        self.schema = schema
        # Autocommit: a read or a filing is one statement, sent without BEGIN and COMMIT.
        self._pool = database.checked_pool(dsn, max_size=2, autocommit=True)
        with self._pool.connection() as conn:
            conn.execute(f'CREATE TABLE IF NOT EXISTS "{schema}".blobs (digest TEXT PRIMARY KEY, '
                         "media_type TEXT NOT NULL, content BYTEA NOT NULL)")
            conn.execute(f'CREATE TABLE IF NOT EXISTS "{schema}".blob_filings (digest TEXT NOT NULL, '
                         "subject TEXT NOT NULL, owner TEXT NOT NULL, PRIMARY KEY (digest, subject, owner))")
            conn.execute(f'CREATE INDEX IF NOT EXISTS blob_filings_by_owner ON "{schema}".blob_filings (owner)')

    @database.retried_once_if_dropped
    def put(self, content: bytes, media_type: str, subject: str, owner: str) -> str:
        digest = digest_of(content)
        with self._pool.connection() as conn:  # the content and its filing land together: one statement
            conn.execute(f'WITH content AS (INSERT INTO "{self.schema}".blobs VALUES (%s, %s, %s) '
                         f'ON CONFLICT DO NOTHING) INSERT INTO "{self.schema}".blob_filings VALUES (%s, %s, %s) '
                         "ON CONFLICT DO NOTHING", (digest, media_type, content, digest, subject, owner))
        return digest

    @database.retried_once_if_dropped
    def get(self, digest: str) -> Blob | None:
        with self._pool.connection() as conn:
            row = conn.execute(f'SELECT media_type, content FROM "{self.schema}".blobs WHERE digest = %s',
                               (digest,)).fetchone()
        return None if row is None else Blob(digest, row[0], bytes(row[1]))

    def filed_under(self, digest: str, subject: str) -> bool:
        return not self.not_filed_under([digest], subject)

    @database.retried_once_if_dropped
    def not_filed_under(self, digests: list[str], subject: str) -> set[str]:
        """Those of `digests` not filed under `subject` (or whose content is gone): one statement."""
        with self._pool.connection() as conn:
            filed = conn.execute(
                f'SELECT f.digest FROM "{self.schema}".blob_filings f JOIN "{self.schema}".blobs b USING (digest) '
                "WHERE f.digest = ANY(%s) AND f.subject = %s", (list(digests), subject)).fetchall()
        return set(digests) - {row[0] for row in filed}

    @database.retried_once_if_dropped
    def erase_owner(self, owner: str) -> int:
        with self._pool.connection() as conn, conn.transaction():
            digests = [row[0] for row in conn.execute(
                f'DELETE FROM "{self.schema}".blob_filings WHERE owner = %s RETURNING digest', (owner,))]
            if not digests:
                return 0
            erased = conn.execute(
                f'DELETE FROM "{self.schema}".blobs b WHERE b.digest = ANY(%s) AND NOT EXISTS '
                f'(SELECT 1 FROM "{self.schema}".blob_filings f WHERE f.digest = b.digest)', (digests,))
            return erased.rowcount

    def close(self) -> None:
        self._pool.close()


def blob_store(settings: Settings, schema: str, name: str) -> BlobStore:
    """The store for this mode: PostgreSQL on the stack, files under var/ embedded."""
    if settings.mode == "stack":
        return PostgresBlobStore(settings.pg_dsn, schema)
    return FileBlobStore(settings.var_dir / "blobs" / name)
