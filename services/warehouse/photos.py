"""Inspection photos: what an upload must be, and how events name a stored photo (pure).

A photo is named by the sha256 of its bytes, `sha256:<hex>`: the events carry only that name, the
bytes stay in the warehouse's photo store, and a customer fetches them (their own items only)
at `/warehouse/items/{code}/photos/{hex}`.
"""

from __future__ import annotations

import re

from service_runtime.errors import DomainError

MAX_PHOTO_BYTES = 5 * 1024 * 1024  # a phone photo; anything larger is refused, never cut
# Media types by the file's first bytes (its magic number), never by its name or declared type.
MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
REFERENCE = re.compile(r"^sha256:([0-9a-f]{64})$")
DIGEST_PATTERN = r"^[0-9a-f]{64}$"


class PhotoRefused(DomainError):
    """An upload that is not a photo we keep: 415 for another kind of file, 413 for too large."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def media_type_of(content: bytes) -> str:
    if len(content) > MAX_PHOTO_BYTES:
        raise PhotoRefused(f"a photo may be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MiB", 413)
    for magic, media_type in MAGIC:
        if content.startswith(magic):
            return media_type
    raise PhotoRefused("a photo must be a JPEG or PNG file", 415)


def reference(digest: str) -> str:
    return f"sha256:{digest}"


def digest_in(reference_text: str) -> str | None:
    """The content hash a stored photo's reference names; None for another kind of reference."""
    match = REFERENCE.match(reference_text)
    return match.group(1) if match else None


def url_for(code: str, reference_text: str) -> str | None:
    digest = digest_in(reference_text)
    return f"/warehouse/items/{code}/photos/{digest}" if digest else None
