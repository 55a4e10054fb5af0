"""Versioned contracts of the events KongfuMall services publish.

A payload model per event type and version; the envelope every message carries; upcasters that
lift an older version to the current one; JSON Schemas generated from the models are checked in
under `contracts/schemas/` and guarded by `tests/contract`.
"""

from contracts.envelope import Envelope
from contracts.registry import (
    ContractError,
    EventPayload,
    all_contracts,
    current_model,
    parse_payload,
    register,
    upcaster,
)

# Importing the per-service modules registers their contracts.
from contracts import claims as claims  # noqa: E402
from contracts import fraud as fraud  # noqa: E402
from contracts import logistics as logistics  # noqa: E402
from contracts import orders as orders  # noqa: E402
from contracts import payments as payments  # noqa: E402
from contracts import purchasing as purchasing  # noqa: E402
from contracts import warehouse as warehouse  # noqa: E402

__all__ = [
    "ContractError",
    "Envelope",
    "EventPayload",
    "all_contracts",
    "current_model",
    "parse_payload",
    "register",
    "upcaster",
]
