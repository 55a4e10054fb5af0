"""Drives orders through the whole lifecycle over HTTP, as the customer, the agents and the
carrier would. `make demo` prints what it saw; the end-to-end tests assert on it."""

from __future__ import annotations

import hashlib
import string
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from kongfu.local import wait_until

TokenFactory = Callable[[str, str], str]  # (subject, role) -> bearer token


class StepFailed(AssertionError):
    pass


def provider_reference(prefix: str, *parts: object) -> str:
    """A fake provider's payment reference, derived from what it pays for: the same on every
    retry, and letters only after the prefix, so it never holds a digit run that could pass the
    card-number check (random hex did, about once in 1,300 payments)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return prefix + "".join(string.ascii_lowercase[byte % 26] for byte in digest[:16])


def sample_photo(seed: str, width: int = 64, height: int = 48) -> bytes:
    """A real PNG (a colour taken from `seed`) standing for a warehouse camera's photo: any
    browser decodes it, and different seeds give different content hashes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + hashlib.sha256(seed.encode()).digest()[:3] * width  # filter byte, then RGB pixels
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


@dataclass
class Lifecycle:
    """One platform (embedded: every service at one URL; stack: one URL per service)."""

    urls: dict[str, str]
    token_for: TokenFactory
    carrier_webhook: Callable[[str, str, str], tuple[dict[str, str], bytes]]  # (tracking no, status, event id)
    customer: str = field(default_factory=lambda: f"customer-{uuid.uuid4().hex[:8]}")
    # Each journey buys from its own shop, so one journey's failed inspection never counts against another's.
    merchant_id: str = field(default_factory=lambda: f"m-{uuid.uuid4().hex[:8]}")
    log: Callable[[str], None] = lambda message: None
    # Like a real frontend under faults (`kongfu chaos`): keep retrying connection errors and 5xx
    # for this many seconds, with backoff and the same headers (so the same Idempotency-Key).
    retry_for: float = 0.0
    # Every answer (service, status, response); status 0 and no response: no connection.
    observe: Callable[[str, int, httpx.Response | None], None] = lambda service, status, response: None
    patience: float = 60.0  # seconds to wait for a reaction (another service's step) to show
    # A keep-alive client (one per driver thread); without one, each call opens its own connection.
    client: httpx.Client | None = None

    # -- plumbing ----------------------------------------------------------------------------
    def call(self, service: str, method: str, path: str, role: str, subject: str | None = None,
             expect: int | tuple[int, ...] = (200, 201), **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if role:
            headers["Authorization"] = f"Bearer {self.token_for(subject or self._staff(role), role)}"
        expected = (expect,) if isinstance(expect, int) else expect
        deadline, backoff, unsure = time.monotonic() + self.retry_for, 0.2, False
        while True:
            try:
                response = (self.client or httpx).request(method, f"{self.urls[service]}{path}",
                                                           headers=headers, timeout=30, **kwargs)
                self.observe(service, response.status_code, response)
                if response.status_code < 500 or time.monotonic() > deadline:
                    break
            except httpx.TransportError:
                self.observe(service, 0, None)
                if time.monotonic() > deadline:
                    raise
            unsure = unsure or method != "GET"  # the command may have been done before its answer was lost
            time.sleep(backoff)
            backoff = min(2.0, backoff * 2)
        if unsure and response.status_code == 409 and "Idempotency-Key" not in headers:
            return response  # an unkeyed command done by the lost attempt: the state moved on already
        if response.status_code not in expected:
            raise StepFailed(f"{method} {path} as {role}: {response.status_code} {response.text}")
        return response

    def as_customer(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.call(service, method, path, "customer", self.customer, **kwargs)

    @staticmethod
    def _staff(role: str) -> str:
        return f"{role.replace('_', '-')}-1"

    # -- the journey ---------------------------------------------------------------------------
    def place_and_pay(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        order = self.as_customer("orders", "POST", "/orders", json={"destination_country": "GB", "items": items},
                                 headers={"Idempotency-Key": f"place-{uuid.uuid4()}"}).json()
        self.log(f"placed order {order['order_id']}: total {order['quote']['total']} CNY")
        # A Stripe PaymentMethod id from Stripe's hosted card fields: card data never reaches us.
        # Payments learns the total from orders' event: a just-placed order may need a moment;
        # a 409 asks for a repeat (a payment whose first request may still be with the provider).
        wait_until(lambda: self.as_customer("payments", "POST", f"/payments/orders/{order['order_id']}",
                                            expect=(201, 404, 409), headers={"Idempotency-Key": f"pay-{order['order_id']}"},
                                            json={"method": "card", "payment_token": "pm_card_visa"}
                                            ).status_code == 201, what="payments to take the payment")
        self.wait_order(order["order_id"], lambda o: o["status"] == "confirmed", "the order to be confirmed")
        return order

    def order(self, order_id: str) -> dict[str, Any]:
        return self.as_customer("orders", "GET", f"/orders/{order_id}").json()

    def wait_order(self, order_id: str, condition: Callable[[dict], bool], what: str) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            order = self.order(order_id)
            return order if condition(order) else None

        return wait_until(probe, timeout=self.patience, what=what)

    def tasks(self, order_id: str, count: int) -> list[dict[str, Any]]:
        def listed():
            tasks = self.call("purchasing", "GET", f"/purchasing/orders/{order_id}/tasks", "purchasing_agent",
                              expect=(200, 404)).json()
            return tasks if isinstance(tasks, list) and len(tasks) >= count else None

        return sorted(wait_until(timeout=self.patience, what="purchase tasks", condition=listed), key=lambda t: t["line_no"])

    def purchase_and_ship(self, task: dict[str, Any], category: str, amount_paid: str) -> str:
        task_id = task["task_id"]
        self.call("purchasing", "POST", f"/purchasing/tasks/{task_id}/purchase", "purchasing_agent", json={
            "platform_order_no": f"TB{uuid.uuid4().int % 10**15}", "amount_paid": amount_paid,
            "merchant_id": self.merchant_id, "merchant_name": "Hangzhou Good Goods Store",
            "receipt_ref": f"receipt://taobao/{task_id}", "category": category})
        tracking = f"SF{uuid.uuid4().int % 10**12:012d}"
        self.call("purchasing", "POST", f"/purchasing/tasks/{task_id}/domestic-shipment", "purchasing_agent",
                  json={"carrier": "SF Express", "tracking_number": tracking})
        self.log(f"purchased line {task['line_no']} ({category}) and recorded domestic shipment {tracking}")
        return tracking

    def receive(self, order_id: str, tracking: str, line_no: int) -> str:
        self.call("warehouse", "POST", "/warehouse/inbound", "warehouse_staff",
                  json={"tracking_number": tracking, "carrier": "SF Express"})
        entry = wait_until(timeout=self.patience, what=f"line {line_no} to arrive at the warehouse", condition=lambda: next(
            (e for e in self.timeline(order_id) if e["stage"] == "warehouse_entry"
             and e["details"].get("line_no") == line_no), None))
        code = entry["details"]["traceability_code"]
        self.log(f"line {line_no} received, traceability code {code}")
        return code

    def inspect_and_store(self, code: str, quantity: int, high_risk: bool, passed: bool = True) -> None:
        if high_risk:
            self.call("warehouse", "POST", f"/warehouse/items/{code}/special-inspection", "warehouse_staff",
                      json={"checks": ["packaging intact", "no cracks under light"], "passed": True,
                            "notes": "fragile goods protocol"})
        photos = [self.call("warehouse", "POST", f"/warehouse/items/{code}/photos", "warehouse_staff",
                            files={"photo": (f"{code}-{n}.png", sample_photo(f"{code}/{n}"), "image/png")}
                            ).json()["photo"] for n in range(1, 4)]
        self.call("warehouse", "POST", f"/warehouse/items/{code}/inspection", "warehouse_staff", json={
            "quantity_checked": quantity if passed else quantity - 1, "exterior_condition": "intact",
            "photos": photos})
        if passed:
            self.call("warehouse", "POST", f"/warehouse/items/{code}/storage", "warehouse_staff",
                      json={"location": f"A-03-{code[-3:]}"})

    def consolidate_and_pack(self, codes: list[str], destination: str = "GB") -> str:
        request = self.as_customer("warehouse", "POST", "/warehouse/shipment-requests",
                                   json={"traceability_codes": codes, "destination_country": destination})
        if request.status_code == 409:  # a retry after a lost answer: the items name the parcel it made
            parcel_id = self.as_customer("warehouse", "GET", f"/warehouse/items/{codes[0]}").json()["parcel_id"]
        else:
            parcel_id = request.json()["parcel_id"]
        return self.pack(parcel_id)

    def pack(self, parcel_id: str) -> str:
        plan = self.call("warehouse", "GET", f"/warehouse/parcels/{parcel_id}/packing-plan", "warehouse_staff").json()
        self.call("warehouse", "POST", f"/warehouse/parcels/{parcel_id}/pack", "warehouse_staff", json={
            "weight_kg": "2.4", "length_cm": "40", "width_cm": "30", "height_cm": "20",
            "materials": plan["materials"], "cushioning": plan["cushioning"]})
        self.log(f"parcel {parcel_id} packed with {', '.join(plan['materials'])}")
        return parcel_id

    def quotes(self, parcel_id: str) -> list[dict[str, Any]]:
        wait_until(timeout=self.patience, what="logistics to know the parcel", condition=lambda: self.call(
            "logistics", "GET", f"/logistics/parcels/{parcel_id}", "logistics_staff", expect=(200, 404)
        ).status_code == 200)
        return self.as_customer("logistics", "GET", f"/logistics/parcels/{parcel_id}/quotes").json()["lines"]

    def ship(self, parcel_id: str, codes: list[str]) -> str:
        line = next(l for l in self.quotes(parcel_id) if l.get("price") is not None and not l.get("refused"))
        self.choose_and_pay_shipping(parcel_id, line)
        paid = {item["traceability_code"]: item["value"] for item in self.call(
            "logistics", "GET", f"/logistics/parcels/{parcel_id}", "logistics_staff").json()["items"]}
        self.call("logistics", "POST", f"/logistics/parcels/{parcel_id}/customs-declaration", "logistics_staff",
                  json={"items": [{"traceability_code": c, "hs_code": "691390", "description": "ceramic goods",
                                   "declared_value": paid[c], "currency": "CNY"} for c in codes]})
        tracking = f"KF{uuid.uuid4().int % 10**10:010d}GB"
        self.call("logistics", "POST", f"/logistics/parcels/{parcel_id}/handover", "logistics_staff",
                  json={"carrier": "fake-express", "tracking_number": tracking})
        self.log(f"parcel {parcel_id} shipped on {line['code']} as {tracking}")
        return tracking

    def choose_and_pay_shipping(self, parcel_id: str, line: dict[str, Any], method: str = "card") -> dict[str, Any]:
        """Choose the line (logistics bills the parcel), pay the bill at payments (card through the
        Stripe fake, or the balance), and wait until logistics knows it is paid."""
        bill = self.as_customer("logistics", "POST", f"/logistics/parcels/{parcel_id}/shipping",
                                headers={"Idempotency-Key": f"ship-{parcel_id}"},
                                json={"line_code": line["code"], "amount": line["price"]}).json()
        body = {"method": method, **({"payment_token": "pm_card_visa"} if method == "card" else {})}
        wait_until(lambda: self.as_customer("payments", "POST", f"/payments/shipping/{parcel_id}",
                                            expect=(201, 404, 409),
                                            headers={"Idempotency-Key": f"pay-shipping-{parcel_id}"}, json=body
                                            ).status_code == 201, timeout=self.patience,
                   what="payments to take the shipping payment")
        wait_until(lambda: self.call("logistics", "GET", f"/logistics/parcels/{parcel_id}", "logistics_staff"
                                     ).json()["status"] == "shipping_paid",
                   timeout=self.patience, what="logistics to learn the shipping is paid")
        self.log(f"parcel {parcel_id}: shipping bill of {bill['total']} CNY paid by {method}")
        return bill

    def carrier_update(self, tracking: str, status: str, event_id: str | None = None) -> httpx.Response:
        headers, body = self.carrier_webhook(tracking, status, event_id or f"evt-{uuid.uuid4().hex[:12]}")
        return self.call("logistics", "POST", "/logistics/carrier-webhooks/fake-express", "",
                         headers={**headers, "content-type": "application/json"}, content=body)

    def deliver(self, parcel_id: str, tracking: str) -> None:
        for status in ("in_transit", "customs_cleared", "out_for_delivery", "delivered"):
            self.carrier_update(tracking, status)
        wait_until(timeout=self.patience, what="the parcel to be delivered", condition=lambda: self.as_customer(
            "logistics", "POST", f"/logistics/parcels/{parcel_id}/receipt-confirmation", expect=(200, 201, 409)
        ).status_code in (200, 201))
        self.log(f"parcel {parcel_id} delivered and receipt confirmed")

    def claim_damage(self, parcel_id: str, code: str) -> dict[str, Any]:
        def open_claim() -> dict[str, Any] | None:
            response = self.as_customer("claims", "POST", "/claims", expect=(201, 404, 409), json={
                "parcel_id": parcel_id, "kind": "damaged", "traceability_code": code,
                "description": "The vase arrived cracked.", "photos": ["photo://claim/1"]})
            if response.status_code == 201:
                return response.json()
            existing = response.json().get("existing_claim_id") if response.status_code == 409 else None
            if existing:  # an earlier attempt opened it and its answer was lost
                return self.as_customer("claims", "GET", f"/claims/{existing}").json()
            return None  # claims does not know the parcel as delivered yet

        claim = wait_until(timeout=self.patience, what="claims to know the delivered parcel", condition=open_claim)
        decided = self.call("claims", "POST", f"/claims/{claim['claim_id']}/decision", "support_agent",
                            json={"approved": True, "notes": "photos show transport damage"}).json()
        self.log(f"claim {claim['claim_id']} decided")
        return decided | {"claim_id": claim["claim_id"]}

    def timeline(self, order_id: str) -> list[dict[str, Any]]:
        response = self.as_customer("orders", "GET", f"/orders/{order_id}/timeline", expect=(200, 404))
        return response.json()["entries"] if response.status_code == 200 else []

    def timeline_until(self, order_id: str, stage: str) -> list[dict[str, Any]]:
        def probe() -> list[dict[str, Any]] | None:
            entries = self.timeline(order_id)
            return entries if any(e["stage"] == stage for e in entries) else None

        return wait_until(timeout=self.patience, what=f"the timeline to show {stage}", condition=probe)

    def trace(self, code: str) -> dict[str, Any]:
        return self.as_customer("warehouse", "GET", f"/warehouse/trace/{code}").json()

    def full_journey(self) -> dict[str, Any]:
        """One order with a fragile and an ordinary item, from link to compensation decision."""
        order = self.place_and_pay([
            {"product_url": "https://item.taobao.com/item.htm?id=6543217890", "sku": "celadon vase, 30cm",
             "quantity": 1, "unit_price": "268.00"},
            {"product_url": "https://item.jd.com/100012043978.html", "sku": "cotton shirt, M",
             "quantity": 2, "unit_price": "59.00"},
        ])
        order_id = order["order_id"]
        vase_task, shirt_task = self.tasks(order_id, 2)
        vase_tracking = self.purchase_and_ship(vase_task, "fragile", "268.00")
        shirt_tracking = self.purchase_and_ship(shirt_task, "general", "118.00")
        vase = self.receive(order_id, vase_tracking, 1)
        shirts = self.receive(order_id, shirt_tracking, 2)
        self.inspect_and_store(vase, 1, high_risk=True)
        self.inspect_and_store(shirts, 2, high_risk=False)
        parcel_id = self.consolidate_and_pack([vase, shirts])
        tracking = self.ship(parcel_id, [vase, shirts])
        self.deliver(parcel_id, tracking)
        decision = self.claim_damage(parcel_id, vase)
        return {"order_id": order_id, "codes": [vase, shirts], "parcel_id": parcel_id, "tracking": tracking,
                "claim": decision}


def main() -> None:
    """`make demo`: one order through every step against a running platform; prints what it saw."""
    import argparse
    import json
    import os

    from service_runtime.auth import issue_token
    from service_runtime.settings import get_settings
    from services.logistics.carriers import FakeCarrier

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--url", default=os.environ.get("KONGFU_DEMO_URL", "http://127.0.0.1:8000"),
                        help="embedded platform URL; for the stack pass --stack")
    parser.add_argument("--stack", action="store_true", help="one gateway per service on ports 8001-8007")
    args = parser.parse_args()
    settings = get_settings()
    from kongfu.registry import DEFAULT_PORTS

    urls = ({s: f"http://127.0.0.1:{port}" for s, port in DEFAULT_PORTS.items()} if args.stack
            else {s: args.url for s in DEFAULT_PORTS})
    secret = settings.resolved_jwt_secret()
    carrier = FakeCarrier(settings.resolved_carrier_secret())
    journey = Lifecycle(urls, lambda sub, role: issue_token(secret, sub, [role], issuer=settings.jwt_issuer),
                        carrier.webhook, log=lambda m: print(f"· {m}", flush=True))
    result = journey.full_journey()
    timeline = journey.timeline_until(result["order_id"], "claim_decided")
    print("\nTracking timeline / 物流追踪")
    for entry in timeline:
        print(f"  {entry['at'][:19]}  {entry['name_en']:<44} {entry['name_zh']:<12} {entry['actor']}")
    print(f"\nTraceability record for {result['codes'][0]}")
    print(json.dumps({k: v for k, v in journey.trace(result["codes"][0]).items() if k != "history"},
                     indent=2, ensure_ascii=False))
    print(f"\nCompensation: {result['claim'].get('amount')} CNY by rule {result['claim'].get('rule')}")


if __name__ == "__main__":
    main()
