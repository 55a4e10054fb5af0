"""HMAC-SHA256 signatures over "<unix seconds>.<raw body>", sent as `t=<ts>,v1=<hex>`: the carrier
webhooks we receive and the notification webhooks we send are signed the same way."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"
