"""FAKE Stripe for tests and local runs: a small real HTTP server speaking Stripe's REST shapes
(form-encoded requests, JSON objects and errors, Idempotency-Key), which the official SDK talks
to through its `api_base`, and which sends `Stripe-Signature`-signed webhooks with a test secret.

Test tokens (as on Stripe, plus two for failures Stripe cannot be asked for):
`pm_card_visa` succeeds, `pm_card_chargeDeclined` is declined, `pm_card_kongfu_timeout` never
answers in time, `pm_card_kongfu_provider_error` gets a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from services.payments.providers.fake_server import FakeServer, QuietHandler, post_webhook

DECLINED = "pm_card_chargeDeclined"
# Stripe's test PaymentMethods and the test card numbers behind them: a fingerprint is the same for
# one card number whoever pays with it (the fake hashes the number, Stripe does likewise).
TEST_CARDS = {"pm_card_visa": ("visa", "4242424242424242"), "pm_card_mastercard": ("mastercard", "5555555555554444"),
              "pm_card_amex": ("amex", "378282246310005")}
# Every customer of a platform on this fake pays with these few cards (as on Stripe's test mode), so
# the one-card-many-customers velocity rule would hold every order after the third customer's in an
# hour: test, chaos and bench platforms raise that threshold (tests/e2e/test_velocity.py sets it low).
SHARED_TEST_CARDS_ENV = {"KONGFU_FRAUD_VELOCITY_MAX_CUSTOMERS_PER_CARD": "1000000"}
TIMEOUT = "pm_card_kongfu_timeout"
PROVIDER_ERROR = "pm_card_kongfu_provider_error"


def sign(secret: str, payload: str, timestamp: int) -> str:
    """Stripe's scheme: v1 = HMAC-SHA256(secret, "<t>.<payload>")."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _nested(form: list[tuple[str, str]]) -> dict[str, Any]:
    """`metadata[kongfu_payment_id]=x` → {"metadata": {"kongfu_payment_id": "x"}}."""
    out: dict[str, Any] = {}
    for key, value in form:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class FakeStripe(FakeServer):
    def __init__(self, webhook_secret: str, webhook_url: str | None = None, hang_seconds: float = 8.0) -> None:
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.hang_seconds = hang_seconds
        self.intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.sent: list[tuple[str, str]] = []  # (payload, Stripe-Signature) of every webhook sent
        self.undelivered: list[tuple[str, str]] = []
        self._answers: dict[str, tuple[int, dict]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ server

    def start(self, port: int = 0) -> "FakeStripe":
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length") or 0)
                form = _nested(parse_qsl(self.rfile.read(length).decode()))
                self.answer(*fake.handle(self.path, form, self.headers.get("authorization", ""),
                                         self.headers.get("idempotency-key")))

        self.serve(Handler, port, "fake-stripe")
        return self

    # ------------------------------------------------------------------ the API

    def handle(self, path: str, form: dict, authorization: str, key: str | None) -> tuple[int, dict]:
        if not authorization.startswith("Bearer sk_test_"):
            return 401, _error("invalid_request_error", "Invalid API Key provided.")
        with self._lock:
            if key and key in self._answers:
                return self._answers[key]  # Stripe answers a retried request with the first answer
        if path == "/v1/payment_intents":
            answer = self._create_intent(form)
        elif path == "/v1/refunds":
            answer = self._create_refund(form)
        else:
            answer = 404, _error("invalid_request_error", f"Unrecognized request URL (POST: {path}).")
        if answer is None:
            return 500, _error("api_error", "timed out")
        with self._lock:
            if key and answer[0] < 500:
                self._answers[key] = answer
        return answer

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):08d}"

    def _create_intent(self, form: dict) -> tuple[int, dict] | None:
        token = form.get("payment_method", "")
        if token == TIMEOUT:
            time.sleep(self.hang_seconds)
            return None
        if token == PROVIDER_ERROR:
            return 500, _error("api_error", "An unknown error occurred on Stripe's side.")
        if not token.startswith("pm_"):
            return 400, _error("invalid_request_error", f"No such PaymentMethod: '{token}'", param="payment_method")
        intent = {"id": self._new_id("pi"), "object": "payment_intent", "amount": int(form["amount"]),
                  "amount_received": 0, "currency": form["currency"], "payment_method": token,
                  "metadata": form.get("metadata", {}), "status": "processing", "latest_charge": None,
                  "last_payment_error": None, "livemode": False, "created": int(time.time())}
        with self._lock:
            self.intents[intent["id"]] = intent
        if token == DECLINED:
            intent.update(status="requires_payment_method", last_payment_error={
                "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                "message": "Your card was declined."})
            self._send_later("payment_intent.payment_failed", intent)
            return 402, _error("card_error", "Your card was declined.", code="card_declined",
                               decline_code="generic_decline", payment_intent=intent)
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=self._new_id("ch"))
        self._send_later("payment_intent.succeeded", intent)
        if "payment_method" in (form.get("expand") or {}).values():
            return 200, {**intent, "payment_method": payment_method(token)}
        return 200, intent

    def _create_refund(self, form: dict) -> tuple[int, dict]:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return 400, _error("invalid_request_error", "No such payment_intent", param="payment_intent")
        amount = int(form.get("amount") or intent["amount"])
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"])
        if amount > intent["amount"] - refunded:
            return 400, _error("invalid_request_error", "Refund amount is greater than unrefunded amount",
                               code="amount_too_large")
        refund = {"id": self._new_id("re"), "object": "refund", "amount": amount, "currency": intent["currency"],
                  "payment_intent": intent["id"], "status": "succeeded", "metadata": form.get("metadata", {})}
        with self._lock:
            self.refunds[refund["id"]] = refund
        return 200, refund

    # ------------------------------------------------------------------ webhooks

    def event(self, event_type: str, obj: dict) -> str:
        return json.dumps({"id": self._new_id("evt"), "object": "event", "type": event_type,
                           "api_version": "2025-01-01", "created": int(time.time()), "livemode": False,
                           "data": {"object": dict(obj)}})

    def _send_later(self, event_type: str, obj: dict) -> None:
        payload = self.event(event_type, obj)
        if self.webhook_url is None:  # no platform listening (an in-process test): keep it signed
            self.undelivered.append((payload, sign(self.webhook_secret, payload, int(time.time()))))
            return
        threading.Thread(target=self.deliver, args=(payload,), daemon=True).start()

    def take_undelivered(self) -> list[tuple[str, str]]:
        """Webhooks signed while no webhook URL was set: (payload, Stripe-Signature) to post by hand."""
        taken, self.undelivered = self.undelivered, []
        self.sent.extend(taken)
        return taken

    def deliver(self, payload: str, timestamp: int | None = None, attempts: int = 20) -> int:
        """POST a signed webhook, retrying (as Stripe does) until the platform answers 2xx."""
        header = sign(self.webhook_secret, payload, int(timestamp or time.time()))
        self.sent.append((payload, header))
        return self.post(payload, header, attempts)

    def post(self, payload: str, header: str, attempts: int = 1) -> int:
        return post_webhook(self.webhook_url, payload, {"Stripe-Signature": header, "content-type": "application/json"},
                            attempts)

    def replay(self, index: int = -1) -> int:
        """Send a webhook again exactly as it was sent (same body, same signature)."""
        payload, header = self.sent[index]
        return self.post(payload, header)


def payment_method(token: str) -> dict:
    """The PaymentMethod object Stripe returns when a request expands `payment_method`."""
    brand, number = TEST_CARDS.get(token, ("visa", token))
    fingerprint = hashlib.sha256(f"fake-stripe-card:{number}".encode()).hexdigest()[:16]
    return {"id": token, "object": "payment_method", "type": "card",
            "card": {"brand": brand, "last4": number[-4:], "fingerprint": fingerprint}}


def _error(kind: str, message: str, **extra: Any) -> dict:
    return {"error": {"type": kind, "message": message, **extra}}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="FAKE Stripe API for local runs and tests")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--webhook-secret", required=True)
    args = parser.parse_args()
    fake = FakeStripe(args.webhook_secret, args.webhook_url).start(args.port)
    print(f"fake Stripe on {fake.url}, webhooks to {args.webhook_url}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
