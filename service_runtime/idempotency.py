"""Idempotency-Key semantics every command with a key shares (pure)."""

from __future__ import annotations

from typing import Any

from service_runtime.errors import DomainError


class IdempotencyKeyReused(DomainError):
    """The key came back with a different request: a client bug, never a retry."""


def earlier_answer(earlier: dict[str, Any] | None, fingerprint: str) -> dict[str, Any] | None:
    """What the first request with this key recorded, if this is the same request again;
    None if the key is new."""
    if earlier is not None and earlier["fingerprint"] != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request body")
    return earlier
