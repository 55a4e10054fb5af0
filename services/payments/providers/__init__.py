"""The one small port every payment provider sits behind, and what it answers.

An adapter takes tokens or provider ids only (a Stripe PaymentMethod id, a PayPal order id):
card data never reaches the platform. The answer to a charge is not a confirmation; the
provider's signed webhook is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping, Protocol
from uuid import UUID

from service_runtime.errors import DomainError


class ProviderError(Exception):
    """The provider refused or could not answer; nothing was charged."""

    kind = "error"
    status = 502

    def __init__(self, message: str) -> None:
        super().__init__(message)


class Declined(ProviderError):
    kind, status = "declined", 402


class RequestRefused(ProviderError):
    """The provider refused what it was sent (an unknown or spent payment token): the caller's to fix."""

    kind, status = "refused", 422


class ProviderTimeout(ProviderError):
    kind, status = "timeout", 504


class ProviderUnavailable(ProviderError):
    kind, status = "unavailable", 502


class GivenUp(ProviderError):
    """The payment still waited for us or its payer at its deadline and was given up
    (`services/payments/deadlines.py`): pay again, with a new key."""

    kind, status = "abandoned", 409


def recorded_failure(failure: str) -> ProviderError:
    """A failure as an intent recorded it (`kind: message`), as the error first answered, so a
    retry under the same Idempotency-Key gets the same status."""
    kind, _, message = failure.partition(": ")
    kinds = {cls.kind: cls for cls in (Declined, RequestRefused, ProviderTimeout, ProviderUnavailable, GivenUp)}
    return kinds[kind](message) if kind in kinds else ProviderError(failure or "failed")


class PaymentRefused(DomainError):
    """The provider declined or failed, or the payment was given up; the status says which (402,
    409, 422, 502, 504)."""

    def __init__(self, error: ProviderError, payment_id: UUID) -> None:
        super().__init__(f"{error} (payment {payment_id})")
        self.status = error.status
        self.title = {402: "Payment declined", 409: "Payment abandoned", 422: "Payment token refused",
                      504: "Payment provider timeout"}.get(error.status, "Payment provider error")


class WebhookRejected(Exception):
    """The webhook's signature, timestamp or body did not verify."""


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    outcome: str  # "succeeded" | "failed" | "ignored"
    payment_id: UUID | None
    provider_ref: str | None
    reason: str = ""


@dataclass(frozen=True)
class Submission:
    """The provider took the request: its reference, and where the payer approves it (PayPal)."""

    reference: str
    payer_action_url: str | None = None
    card_fingerprint: str | None = None  # Stripe's hash of the card number (the same card across customers)


def submission(answer: "str | Submission") -> Submission:
    return answer if isinstance(answer, Submission) else Submission(answer)


def minor_units(amount: Decimal) -> int:
    """Providers count CNY in fen."""
    return int((amount * 100).to_integral_value())


class PaymentProvider(Protocol):
    name: str
    method: str
    # True when the payer approves at the provider (PayPal) and the platform then captures:
    # `charge` needs no token and returns where to approve; `capture(payment_id, ref)` follows.
    payer_approves: bool

    def charge(self, payment_id: UUID, amount: Decimal, currency: str, token: str | None,
               customer_id: str) -> "str | Submission":
        """Ask for the money; returns the provider's reference. Raises a ProviderError."""

    def refund(self, refund_id: UUID, provider_ref: str, amount: Decimal) -> str:
        """Give money back to the original method; returns the provider's refund reference."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """The event the provider signed; raises WebhookRejected."""
