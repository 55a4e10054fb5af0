"""Inspection photos: staff upload them for an item, customers see those of their own items, and
a customer's erasure deletes them from the store (their events keep only the hash)."""

from __future__ import annotations

from typing import Any

from contracts.orders import CustomerErased
from service_runtime.auth import Caller
from service_runtime.blobs import Blob, BlobStore
from service_runtime.errors import DomainError, NotFound
from service_runtime.store import ServiceApplication
from services.warehouse import photos


class Photos(ServiceApplication):
    photo_store: BlobStore  # set by the bootstrap: files embedded, PostgreSQL on the stack

    def upload_photo(self, code: str, content: bytes) -> str:
        """Keep an inspection photo of the item; its reference (`sha256:<hex>`) goes in the inspection."""
        item = self.item(code)  # type: ignore[attr-defined]  # the warehouse application's items
        media_type = photos.media_type_of(content)
        return photos.reference(self.photo_store.put(content, media_type, item.traceability_code, item.customer_id))

    def photo_for(self, caller: Caller, code: str, digest: str) -> Blob:
        """A photo of the item, if the caller may see the item; a customer sees only the photos of
        its inspection. Otherwise the same 404 as a missing photo."""
        item = self.item_for(caller, code)  # type: ignore[attr-defined]  # 404 unless theirs (or staff)
        shown = {photos.digest_in(ref) for ref in (item.inspection or {}).get("photos", [])}
        blob = self.photo_store.get(digest) if self.photo_store.filed_under(digest, item.traceability_code) else None
        if blob is None or (not caller.is_staff and digest not in shown):
            raise NotFound(f"no photo {digest} of item {item.traceability_code}")
        return blob

    def check_photos(self, code: str, references: list[str]) -> None:
        """A stored photo named in an inspection must have been uploaded for this very item."""
        stored = {digest: ref for ref in references if (digest := photos.digest_in(ref)) is not None}
        missing = self.photo_store.not_filed_under(list(stored), code) if stored else set()
        for digest, ref in stored.items():
            if digest in missing:
                raise DomainError(f"photo {ref} was not uploaded for item {code}; upload it first")

    def on_customer_erased(self, payload: CustomerErased, _envelope: Any) -> list:
        """Erasure: the customer's photos leave the store (a re-delivered event erases nothing more)."""
        self.photo_store.erase_owner(payload.customer_id)
        return []
