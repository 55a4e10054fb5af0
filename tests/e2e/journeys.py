"""Customer journeys over HTTP, shared by the stack and the embedded default."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from tests.support import auth, wait_until

TAOBAO_ITEM = "https://item.taobao.com/item.htm?id={item}"


def place_order(base: str, customer: str, unit_price: str = "99.50", item: str | None = None,
                quantity: int = 2) -> dict:
    body = {
        "destination_country": "GB",
        "items": [{"product_url": TAOBAO_ITEM.format(item=item or uuid.uuid4().int % 10**12),
                   "sku": "colour:black;size:M", "quantity": quantity, "unit_price": unit_price}],
    }
    response = httpx.post(f"{base}/orders", json=body, headers=auth(customer, "customer"), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def pay(urls: dict, customer: str, order: dict, key: str | None = None, method: str = "card",
        token: str | None = "pm_card_visa") -> httpx.Response:
    """Pay through payments: a Stripe PaymentMethod id (never card data), or the balance."""
    body = {"method": method, **({"payment_token": token} if token else {})}
    headers = {**auth(customer, "customer"), "Idempotency-Key": key or f"pay-{uuid.uuid4()}"}
    return httpx.post(f"{urls['payments']}/payments/orders/{order['order_id']}", json=body, headers=headers,
                      timeout=10)


def wait_for_bill(urls: dict, customer: str, order: dict) -> httpx.Response:
    """Pay as soon as payments has heard of the order (it learns the total from orders' event)."""
    return wait_until(lambda: (r := pay(urls, customer, order)).status_code != 404 and r,
                      what=f"payments to know order {order['order_id']}")


def get_order(base: str, customer: str, order_id: str) -> dict:
    response = httpx.get(f"{base}/orders/{order_id}", headers=auth(customer, "customer"), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_status(base: str, customer: str, order_id: str, status: str, timeout: float = 30) -> dict:
    return wait_until(lambda: (o := get_order(base, customer, order_id))["status"] == status and o,
                      timeout=timeout, what=f"order {order_id} to be {status}")


def place_pay_confirm(urls: dict) -> None:
    customer = f"cust-{uuid.uuid4().hex[:8]}"
    order = place_order(urls["orders"], customer)
    assert order["status"] == "awaiting_payment"
    quote = order["quote"]
    assert sum(Decimal(l["amount"]) for l in quote["lines"]) == Decimal(quote["total"])
    assert wait_for_bill(urls, customer, order).status_code == 201
    confirmed = wait_for_status(urls["orders"], customer, order["order_id"], "confirmed")
    assert confirmed["status_reasons"] == [] and len(confirmed["payments"]) == 1


def pay_twice_is_held(urls: dict) -> None:
    customer = f"cust-{uuid.uuid4().hex[:8]}"
    order = place_order(urls["orders"], customer)
    assert wait_for_bill(urls, customer, order).status_code == 201
    assert pay(urls, customer, order).status_code == 201  # a second, different payment
    held = wait_for_status(urls["orders"], customer, order["order_id"], "on_hold")
    assert any("duplicate payment" in reason for reason in held["status_reasons"]), held
    assert len(held["payments"]) == 2
