"""Carrier webhooks: how a carrier signs a tracking update, and a fake carrier that does it.

A carrier calls us without a bearer token; it proves who it is with an HMAC-SHA256 of
"<unix seconds>.<raw body>" under the secret we share with it, sent as
`Kongfu-Carrier-Signature: t=<unix seconds>,v1=<hex>`. The timestamp is signed too, so an old
request replayed later is refused once it is older than the tolerance.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from datetime import datetime, timezone
from typing import Callable

from service_runtime.signing import sign, signature

SIGNATURE_HEADER = "Kongfu-Carrier-Signature"
TOLERANCE_SECONDS = 300
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class SignatureRejected(Exception):
    """The request is not from a carrier we share a secret with, or is too old; says why."""


def verify(secret: str, header: str | None, body: bytes, now: float,
           tolerance: int = TOLERANCE_SECONDS) -> int:
    """Check the header against the raw body; returns the signed timestamp or raises SignatureRejected."""
    if not header:
        raise SignatureRejected(f"the {SIGNATURE_HEADER} header is missing")
    timestamps, candidates = [], []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1" and HEX_DIGEST.fullmatch(value):
            candidates.append(value)  # several while a secret is being rotated
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not candidates:
        raise SignatureRejected(f"the {SIGNATURE_HEADER} header must read t=<unix seconds>,v1=<hex>")
    timestamp = int(timestamps[0])
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureRejected("the signature does not match the request body")
    if now - timestamp > tolerance:
        raise SignatureRejected(f"the signature is {int(now - timestamp)} s old; at most {tolerance} s is accepted")
    if timestamp - now > tolerance:
        raise SignatureRejected("the signature's timestamp is in the future")
    return timestamp


# Where the fake carrier says a parcel is, by status.
FAKE_LOCATIONS = {
    "in_transit": "Shenzhen, CN: departed the export hub",
    "customs_cleared": "London Heathrow, GB: released by customs",
    "out_for_delivery": "London, GB: with the courier",
    "delivered": "London, GB: handed to the recipient",
    "exception": "London, GB: address could not be found",
    "customs_hold": "London Heathrow, GB: held by customs for inspection",
    "customs_seized": "London Heathrow, GB: seized by customs",
    "customs_released": "London Heathrow, GB: released by customs after inspection",
}


class FakeCarrier:
    """Stands in for the real carriers we cannot reach: builds the signed webhook requests one
    would send (for tests and the demo). Nothing is sent; the caller posts them."""

    def __init__(self, secret: str, name: str = "fake-express", clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.name = name
        self.clock = clock

    def webhook(self, tracking_number: str, status: str, carrier_event_id: str,
                location: str | None = None, incident: str | None = None) -> tuple[dict[str, str], bytes]:
        """Headers and the exact body bytes of one tracking update; post the bytes unchanged.
        `incident` (lost, seized, returned_by_customs) goes with status `exception`."""
        now = self.clock()
        update = {
            "carrier_event_id": carrier_event_id, "tracking_number": tracking_number, "status": status,
            "location": location or FAKE_LOCATIONS.get(status, "unknown"),
            "occurred_at": datetime.fromtimestamp(now, timezone.utc).isoformat(),
        }
        body = json.dumps({**update, **({"incident": incident} if incident else {})},
                          separators=(",", ":")).encode()
        return {SIGNATURE_HEADER: sign(self.secret, body, int(now)), "content-type": "application/json"}, body
