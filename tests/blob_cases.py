"""The photo store's contract, the same on files (embedded) and PostgreSQL (stack)."""

from __future__ import annotations

import hashlib

from service_runtime.blobs import BlobStore
from kongfu.demo import sample_photo


def stores_reads_files_and_erases_by_owner(store: BlobStore) -> None:
    hers, shared = sample_photo("1, 1, 1"), sample_photo("2, 2, 2")
    digest = store.put(hers, "image/png", "KF-ITEM-A", "alice")
    assert digest == hashlib.sha256(hers).hexdigest() and store.put(hers, "image/png", "KF-ITEM-A", "alice") == digest
    blob = store.get(digest)
    assert blob is not None and blob.content == hers and blob.media_type == "image/png"
    assert store.filed_under(digest, "KF-ITEM-A") and not store.filed_under(digest, "KF-ITEM-B")
    both = store.put(shared, "image/png", "KF-ITEM-A", "alice")
    assert store.put(shared, "image/png", "KF-ITEM-B", "bob") == both
    assert store.not_filed_under([digest, both, "0" * 64], "KF-ITEM-A") == {"0" * 64}
    assert store.not_filed_under([digest, both], "KF-ITEM-B") == {digest}
    assert store.erase_owner("alice") == 1 and store.erase_owner("alice") == 0  # once
    assert store.get(digest) is None and not store.filed_under(digest, "KF-ITEM-A")
    assert not store.filed_under(both, "KF-ITEM-A") and store.filed_under(both, "KF-ITEM-B")
    assert store.get(both).content == shared  # still Bob's
    assert store.get("0" * 64) is None
