"""FAKE PayPal for tests and local runs: a small real HTTP server speaking PayPal's REST shapes
(OAuth2 client credentials, Orders v2 create/capture, Payments v2 refunds, JSON errors with
`name`/`details[].issue`, PayPal-Request-Id idempotency), an approval page standing in for the
payer's click at PayPal, and webhooks signed as PayPal signs them (SHA256withRSA over
`<transmission id>|<time>|<webhook id>|<CRC32 of the body>`) with its own test key, whose
certificate it serves at `PAYPAL-CERT-URL` on its own host.

The payer's approval: `GET /checkoutnow?token=<order id>` approves; `&payer=declined` approves
with a funding source that PayPal then declines at capture (`PAYMENT.CAPTURE.DENIED`).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from services.payments.providers.fake_server import FakeServer, QuietHandler, post_webhook
from services.payments.providers.paypal import signed_message

CERT_PATH = "/v1/notifications/certs/CERT-fake-paypal.pem"


def test_certificate(valid_days: int = 30) -> tuple[rsa.RSAPrivateKey, bytes]:
    """A fresh RSA key and a self-signed certificate for it (PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.fake-paypal.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=valid_days)).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


def transmission_time(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakePayPal(FakeServer):
    provider = "paypal"  # its webhooks go to /payments/webhooks/paypal

    def __init__(self, client_id: str, client_secret: str, webhook_id: str, webhook_url: str | None = None) -> None:
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.webhook_url = webhook_url
        self.key, self.certificate = test_certificate()
        self.orders: dict[str, dict] = {}
        self.captures: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.sent: list[tuple[bytes, dict[str, str]]] = []  # (body, headers) of every webhook sent
        self._tokens: set[str] = set()
        self._answers: dict[str, tuple[int, dict]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ server

    def start(self, port: int = 0) -> "FakePayPal":
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                if url.path == CERT_PATH:
                    return self.answer(200, fake.certificate, "application/x-pem-file")
                if url.path == "/checkoutnow":
                    query = parse_qs(url.query)
                    status, body = fake.approve(query.get("token", [""])[0], query.get("payer", ["buyer"])[0])
                    return self.answer(status, body)
                self.answer(404, _error("RESOURCE_NOT_FOUND", "NOT_FOUND"))

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                self.answer(*fake.handle(self.path, raw, self.headers))

        self.serve(Handler, port, "fake-paypal")
        return self

    # ------------------------------------------------------------------ the API

    def handle(self, path: str, raw: bytes, headers: Any) -> tuple[int, dict]:
        authorization = headers.get("authorization", "")
        if path == "/v1/oauth2/token":
            return self._token(authorization, raw)
        if authorization.removeprefix("Bearer ") not in self._tokens:
            return 401, {"error": "invalid_token", "error_description": "Token signature verification failed"}
        request_id = headers.get("paypal-request-id")
        with self._lock:
            if request_id and request_id in self._answers:
                return self._answers[request_id]  # PayPal answers a retried request as the first time
            body = json.loads(raw or b"{}")
            parts = path.strip("/").split("/")
            if path == "/v2/checkout/orders":
                answer = self._create_order(body)
            elif parts[:3] == ["v2", "checkout", "orders"] and len(parts) == 5 and parts[4] == "capture":
                answer = self._capture(parts[3])
            elif parts[:3] == ["v2", "payments", "captures"] and len(parts) == 5 and parts[4] == "refund":
                answer = self._refund(parts[3], body)
            else:
                answer = 404, _error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
            if request_id and answer[0] < 300:  # a refused request may be sent again once fixed
                self._answers[request_id] = answer
            return answer

    def _token(self, authorization: str, raw: bytes) -> tuple[int, dict]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != f"Basic {expected}" or b"grant_type=client_credentials" not in raw:
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        token = f"A21AA-fake-{next(self._ids):08d}"
        self._tokens.add(token)
        return 200, {"scope": "https://uri.paypal.com/services/payments/payment", "access_token": token,
                     "token_type": "Bearer", "app_id": "APP-FAKE", "expires_in": 32400, "nonce": token}

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):012d}FAKE"

    def _create_order(self, body: dict) -> tuple[int, dict]:
        units = body.get("purchase_units") or []
        if body.get("intent") != "CAPTURE" or len(units) != 1 or "amount" not in units[0]:
            return 422, _error("UNPROCESSABLE_ENTITY", "MISSING_REQUIRED_PARAMETER")
        order_id = self._new_id("5O")
        order = {"id": order_id, "intent": "CAPTURE", "status": "PAYER_ACTION_REQUIRED", "purchase_units": units,
                 "payer": None, "links": [
                     {"href": f"{self.url}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"},
                     {"href": f"{self.url}/checkoutnow?token={order_id}", "rel": "payer-action", "method": "GET"}]}
        self.orders[order_id] = order
        return 200, order

    def approve(self, order_id: str, payer: str) -> tuple[int, dict]:
        """The payer's click on PayPal's approval page."""
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                return 404, _error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
            if order["status"] == "PAYER_ACTION_REQUIRED":
                order.update(status="APPROVED", payer={"payer_id": f"PAYER{payer.upper()}", "kind": payer})
            return 200, {"id": order_id, "status": order["status"]}

    def _capture(self, order_id: str) -> tuple[int, dict]:
        order = self.orders.get(order_id)
        if order is None:
            return 404, _error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if order["status"] == "PAYER_ACTION_REQUIRED":
            return 422, _error("UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
        if order["status"] == "COMPLETED":
            return 422, _error("UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        unit = order["purchase_units"][0]
        kind = order["payer"]["kind"]  # "declined": refused at capture; "echeck": cleared days later
        status = {"declined": "DECLINED", "echeck": "PENDING"}.get(kind, "COMPLETED")
        capture = {"id": self._new_id("3C"), "status": status,
                   "amount": unit["amount"], "custom_id": unit.get("custom_id"), "final_capture": True,
                   "supplementary_data": {"related_ids": {"order_id": order_id}},
                   "create_time": transmission_time(time.time())}
        if status != "COMPLETED":
            capture["status_details"] = {"reason": "INSTRUMENT_DECLINED" if status == "DECLINED" else "ECHECK"}
        self.captures[capture["id"]] = capture
        order["status"] = "COMPLETED"
        unit["payments"] = {"captures": [capture]}
        self._send_later({"DECLINED": "PAYMENT.CAPTURE.DENIED", "PENDING": "PAYMENT.CAPTURE.PENDING"}.get(
            status, "PAYMENT.CAPTURE.COMPLETED"), "capture", capture)
        return 201, order

    def clear(self, capture_id: str) -> None:
        """A pending capture (an eCheck) clears: it completes, and PayPal says so by webhook."""
        with self._lock:
            capture = self.captures[capture_id]
            capture.update(status="COMPLETED")
            capture.pop("status_details", None)
        self._send_later("PAYMENT.CAPTURE.COMPLETED", "capture", capture)

    def _refund(self, capture_id: str, body: dict) -> tuple[int, dict]:
        capture = self.captures.get(capture_id)
        if capture is None or capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
            return 422, _error("UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED" if capture else "INVALID_RESOURCE_ID")
        amount = body.get("amount") or capture["amount"]
        refunded = sum(float(r["amount"]["value"]) for r in self.refunds.values() if r["capture_id"] == capture_id)
        if round(refunded + float(amount["value"]), 2) > float(capture["amount"]["value"]):
            return 422, _error("UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED")
        refund = {"id": self._new_id("1R"), "status": "COMPLETED", "amount": amount, "capture_id": capture_id,
                  "invoice_id": body.get("invoice_id"), "custom_id": capture.get("custom_id"),
                  "links": [{"href": f"{self.url}/v2/payments/captures/{capture_id}", "rel": "up", "method": "GET"}]}
        self.refunds[refund["id"]] = refund
        full = round(refunded + float(amount["value"]), 2) == float(capture["amount"]["value"])
        capture["status"] = "REFUNDED" if full else "PARTIALLY_REFUNDED"
        self._send_later("PAYMENT.CAPTURE.REFUNDED", "refund", refund)
        return 201, refund

    # ------------------------------------------------------------------ webhooks

    def signed(self, body: bytes, at: float | None = None, cert_url: str | None = None) -> dict[str, str]:
        """PayPal's webhook headers for `body`, signed with the fake's key."""
        transmission_id = f"{next(self._ids):08d}-fake-transmission"
        when = transmission_time(time.time() if at is None else at)
        signature = self.key.sign(signed_message(transmission_id, when, self.webhook_id, body),
                                  padding.PKCS1v15(), hashes.SHA256())
        return {"PAYPAL-TRANSMISSION-ID": transmission_id, "PAYPAL-TRANSMISSION-TIME": when,
                "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
                "PAYPAL-CERT-URL": cert_url or f"{self.url}{CERT_PATH}", "PAYPAL-AUTH-ALGO": "SHA256withRSA",
                "content-type": "application/json"}

    def event(self, event_type: str, resource_type: str, resource: dict) -> bytes:
        return json.dumps({"id": self._new_id("WH-"), "event_version": "1.0", "create_time":
                           transmission_time(time.time()), "resource_type": resource_type,
                           "event_type": event_type, "summary": event_type.lower().replace(".", " "),
                           "resource": dict(resource)}).encode()

    def _send_later(self, event_type: str, resource_type: str, resource: dict) -> None:
        body = self.event(event_type, resource_type, resource)
        if self.webhook_url is None:  # no platform listening (an in-process test): keep it signed
            self.sent.append((body, self.signed(body)))
            return
        threading.Thread(target=self.deliver, args=(body,), daemon=True).start()

    def deliver(self, body: bytes, attempts: int = 40) -> int:
        """POST a signed webhook, retrying (as PayPal does) until the platform answers 2xx."""
        headers = self.signed(body)
        self.sent.append((body, headers))
        return self.post(body, headers, attempts)

    def post(self, body: bytes, headers: dict[str, str], attempts: int = 1) -> int:
        return post_webhook(self.webhook_url, body, headers, attempts)

    def replay(self, index: int = -1) -> int:
        """Send a webhook again exactly as it was sent (same body, same signature)."""
        body, headers = self.sent[index]
        return self.post(body, headers)


def _error(name: str, issue: str) -> dict:
    return {"name": name, "message": "The requested action could not be performed.",
            "details": [{"issue": issue, "description": issue.replace("_", " ").lower()}],
            "debug_id": "fakedebug0001"}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="FAKE PayPal API for local runs and tests")
    parser.add_argument("--port", type=int, default=12112)
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--webhook-id", required=True)
    args = parser.parse_args()
    fake = FakePayPal(args.client_id, args.client_secret, args.webhook_id, args.webhook_url).start(args.port)
    print(f"fake PayPal on {fake.url}, webhooks to {args.webhook_url}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
