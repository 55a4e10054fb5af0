"""PayPal over its REST API (Orders v2, Payments v2) with httpx, and its webhooks verified as PayPal
documents self-verification.

Why not the official `paypal-server-sdk`: its client takes an `Environment` that is either
SANDBOX or PRODUCTION with fixed URLs and no base-URL setting, so it cannot be pointed at the
PayPal fake (or any other host) without patching it; the documented endpoints are few and plain.

The flow: an OAuth2 client-credentials token → create an order (intent CAPTURE, the payment id as
`custom_id`, PayPal-Request-Id for idempotency) → the payer approves at PayPal's `payer-action`
link → capture → refunds against the capture. Webhooks (`PAYMENT.CAPTURE.COMPLETED`, `.DENIED`,
`.REFUNDED`) are trusted only when their SHA256withRSA signature over
`<transmission id>|<transmission time>|<webhook id>|<CRC32 of the body>` verifies with the
certificate at `PAYPAL-CERT-URL`, that URL is on the configured PayPal API host, the certificate
is valid now, and the transmission is recent.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import zlib
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit
from uuid import UUID

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from services.payments.providers import (Declined, ProviderTimeout, ProviderUnavailable, RequestRefused, Submission,
                                         WebhookEvent, WebhookRejected)

WEBHOOK_TOLERANCE_SECONDS = 300
OUTCOMES = {"PAYMENT.CAPTURE.COMPLETED": "succeeded", "PAYMENT.CAPTURE.DENIED": "failed"}


def signed_message(transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> bytes:
    """What PayPal signs: the transmission id and time, the webhook id and the CRC32 of the raw body."""
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()


def amount_text(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


class PayPalWebhookVerifier:
    """Self-verification of PayPal's webhook signature; `fetch` reads a certificate by URL."""

    def __init__(self, api_base: str, webhook_id: str, fetch: Callable[[str], bytes],
                 tolerance_seconds: int = WEBHOOK_TOLERANCE_SECONDS, now: Callable[[], float] = time.time) -> None:
        trusted = urlsplit(api_base)
        self.trusted_origin = (trusted.scheme, trusted.netloc.lower())
        self.webhook_id, self.fetch, self.tolerance, self.now = webhook_id, fetch, tolerance_seconds, now
        self._certificates: dict[str, x509.Certificate] = {}
        self._lock = threading.Lock()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        def header(name: str) -> str:
            value = headers.get(name) or headers.get(name.lower())
            if not value:
                raise WebhookRejected(f"PayPal webhook rejected: the {name} header is missing")
            return value

        transmission_id, transmission_time = header("PAYPAL-TRANSMISSION-ID"), header("PAYPAL-TRANSMISSION-TIME")
        cert_url, algorithm = header("PAYPAL-CERT-URL"), header("PAYPAL-AUTH-ALGO")
        if algorithm != "SHA256withRSA":
            raise WebhookRejected(f"PayPal webhook rejected: unsupported algorithm {algorithm}")
        try:
            sent = datetime.fromisoformat(transmission_time.replace("Z", "+00:00")).timestamp()
            signature = base64.b64decode(header("PAYPAL-TRANSMISSION-SIG"), validate=True)
        except ValueError:
            raise WebhookRejected("PayPal webhook rejected: malformed transmission time or signature") from None
        if abs(self.now() - sent) > self.tolerance:
            raise WebhookRejected("PayPal webhook rejected: the transmission is too old (or from the future)")
        certificate = self.certificate(cert_url)
        try:
            certificate.public_key().verify(signature, signed_message(transmission_id, transmission_time,
                                                                      self.webhook_id, body),
                                            padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, TypeError, ValueError):
            raise WebhookRejected("PayPal webhook rejected: the signature does not verify") from None
        try:
            return json.loads(body)
        except ValueError:
            raise WebhookRejected("PayPal webhook rejected: the body is not JSON") from None

    def certificate(self, url: str) -> x509.Certificate:
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != self.trusted_origin:
            raise WebhookRejected("PayPal webhook rejected: the certificate URL is not on the PayPal host")
        with self._lock:
            cached = self._certificates.get(url)
        if cached is None:
            try:
                cached = x509.load_pem_x509_certificate(self.fetch(url))
            except (httpx.HTTPError, ValueError):
                raise WebhookRejected("PayPal webhook rejected: the certificate could not be read") from None
            with self._lock:
                self._certificates[url] = cached
        now = datetime.fromtimestamp(self.now(), timezone.utc)
        if not cached.not_valid_before_utc <= now <= cached.not_valid_after_utc:
            raise WebhookRejected("PayPal webhook rejected: the certificate is not valid now")
        return cached


class PayPalProvider:
    name = "paypal"
    method = "paypal"
    payer_approves = True  # the customer approves at PayPal before the platform captures

    def __init__(self, client_id: str, client_secret: str, api_base: str, webhook_id: str,
                 timeout_seconds: float = 5.0, return_url: str = "https://kongfumall.example/paypal/return") -> None:
        self.api_base, self.return_url = api_base.rstrip("/"), return_url
        self.http = httpx.Client(base_url=self.api_base, timeout=timeout_seconds)
        self.credentials = (client_id, client_secret)
        self.verifier = PayPalWebhookVerifier(self.api_base, webhook_id, self._fetch_certificate)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    # The port -------------------------------------------------------------------------------

    def charge(self, payment_id: UUID, amount: Decimal, currency: str, token: str | None,
               customer_id: str) -> Submission:
        """Create the PayPal order; the payer approves it at the `payer-action` link."""
        order = self._call("POST", "/v2/checkout/orders", f"create-{payment_id}", {
            "intent": "CAPTURE",
            "purchase_units": [{"reference_id": str(payment_id), "custom_id": str(payment_id),
                                "amount": {"currency_code": currency, "value": amount_text(amount)}}],
            "payment_source": {"paypal": {"experience_context": {
                "return_url": self.return_url, "cancel_url": self.return_url, "user_action": "PAY_NOW"}}}})
        action = next((link["href"] for link in order.get("links", []) if link.get("rel") in ("payer-action",
                                                                                              "approve")), None)
        return Submission(order["id"], action)

    def capture(self, payment_id: UUID, provider_ref: str) -> tuple[str, str]:
        """Capture an approved order: (the capture id, its status COMPLETED | PENDING | DECLINED)."""
        order = self._call("POST", f"/v2/checkout/orders/{provider_ref}/capture", f"capture-{payment_id}", {})
        captures = [c for unit in order.get("purchase_units", []) for c in unit.get("payments", {}).get("captures", [])]
        if not captures:
            raise ProviderUnavailable("PayPal answered the capture without a capture")
        return captures[0]["id"], captures[0]["status"]

    def refund(self, refund_id: UUID, provider_ref: str, amount: Decimal) -> str:
        refund = self._call("POST", f"/v2/payments/captures/{provider_ref}/refund", f"refund-{refund_id}", {
            "amount": {"currency_code": "CNY", "value": amount_text(amount)}, "invoice_id": str(refund_id)})
        if refund.get("status") not in ("COMPLETED", "PENDING"):
            raise ProviderUnavailable(f"PayPal answered the refund with status {refund.get('status')}")
        return refund["id"]

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        event = self.verifier.verify(body, headers)
        outcome = OUTCOMES.get(event.get("event_type", ""), "ignored")
        resource = event.get("resource") or {}
        payment_id = resource.get("custom_id") if outcome != "ignored" else None
        try:
            parsed = UUID(payment_id) if payment_id else None
        except ValueError:
            raise WebhookRejected("PayPal webhook rejected: custom_id is not a payment id") from None
        reason = (resource.get("status_details") or {}).get("reason", "DECLINED") if outcome == "failed" else ""
        return WebhookEvent(str(event.get("id")), outcome, parsed, resource.get("id"), reason)

    # HTTP ----------------------------------------------------------------------------------

    def _access_token(self) -> str:
        with self._lock:
            if self._token is not None and self._token[1] > time.monotonic():
                return self._token[0]
        answer = self._send(lambda: self.http.post("/v1/oauth2/token", auth=self.credentials,
                                                   data={"grant_type": "client_credentials"}))
        if answer.status_code != 200:
            raise ProviderUnavailable(f"PayPal refused the platform's credentials ({answer.status_code})")
        data = answer.json()
        with self._lock:
            self._token = (data["access_token"], time.monotonic() + int(data.get("expires_in", 300)) - 60)
        return data["access_token"]

    def _call(self, verb: str, path: str, request_id: str, body: dict) -> dict:
        token = self._access_token()
        answer = self._send(lambda: self.http.request(verb, path, json=body, headers={
            "Authorization": f"Bearer {token}", "PayPal-Request-Id": request_id, "Prefer": "return=representation"}))
        if answer.status_code < 300:
            return answer.json()
        error = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        issues = ", ".join(d.get("issue", "") for d in error.get("details", [])) or error.get("name", "")
        if answer.status_code >= 500:
            raise ProviderUnavailable(f"PayPal failed ({answer.status_code}); nothing was charged, try again")
        if issues in ("INSTRUMENT_DECLINED", "PAYER_ACTION_REQUIRED", "PAYER_CANNOT_PAY"):
            raise Declined(f"PayPal declined the payment: {issues}")
        raise RequestRefused(f"PayPal refused the request: {issues or answer.status_code}")

    @staticmethod
    def _send(request: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            return request()
        except httpx.TimeoutException:
            raise ProviderTimeout("PayPal did not answer in time; nothing was charged, try again") from None
        except httpx.HTTPError:
            raise ProviderUnavailable("PayPal could not be reached; nothing was charged, try again") from None

    def _fetch_certificate(self, url: str) -> bytes:
        answer = self.http.get(url)
        answer.raise_for_status()
        return answer.content
