"""The first slice (orders → fraud → orders) end to end over HTTP."""

import http.client
import time
import uuid

import httpx
import pytest

from tests.e2e import journeys
from tests.support import auth, wait_until


@pytest.fixture(params=["slice_on_stack", "embedded"])
def platform(request):
    return request.getfixturevalue(request.param)


def test_place_pay_cleared_is_confirmed(platform):
    journeys.place_pay_confirm(platform)


def test_paying_twice_holds_the_order_with_the_reason(platform):
    journeys.pay_twice_is_held(platform)


def test_same_idempotency_key_same_response_different_body_422(slice_on_stack):
    base = slice_on_stack["orders"]
    order = journeys.place_order(base, "alice-idem")
    first = wait_until(lambda: (r := journeys.pay(slice_on_stack, "alice-idem", order, key="key-idem-0001"))
                       .status_code != 404 and r)
    again = journeys.pay(slice_on_stack, "alice-idem", order, key="key-idem-0001")
    assert first.status_code == again.status_code == 201
    assert first.json()["payment_id"] == again.json()["payment_id"]
    assert len(slice_on_stack["stripe"].intents) == 1  # one charge at the provider
    other_body = journeys.pay(slice_on_stack, "alice-idem", order, key="key-idem-0001", method="balance", token=None)
    assert other_body.status_code == 422
    assert other_body.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in other_body.json()["detail"]
    confirmed = journeys.wait_for_status(base, "alice-idem", order["order_id"], "confirmed")
    assert len(confirmed["payments"]) == 1


def test_irregular_price_is_held(slice_on_stack):
    item = str(uuid.uuid4().int % 10**12)
    analyst = auth("risk-1", "risk_analyst")
    response = httpx.put(f"{slice_on_stack['fraud']}/fraud/reference-prices/taobao/{item}",
                         json={"price": "100.00"}, headers=analyst)
    assert response.status_code == 200, response.text
    base = slice_on_stack["orders"]
    order = journeys.place_order(base, "bargain-hunter", unit_price="9.90", item=item)
    assert journeys.wait_for_bill(slice_on_stack, "bargain-hunter", order).status_code == 201
    held = journeys.wait_for_status(base, "bargain-hunter", order["order_id"], "on_hold")
    assert any("irregular price" in r and "100.00" in r for r in held["status_reasons"]), held
    case = httpx.get(f"{slice_on_stack['fraud']}/fraud/cases/{order['order_id']}", headers=analyst).json()
    assert [d["outcome"] for d in case["decisions"]] == ["flagged"]


def test_customers_see_only_their_own_orders(slice_on_stack):
    base = slice_on_stack["orders"]
    order = journeys.place_order(base, "alice-private")
    url = f"{base}/orders/{order['order_id']}"

    other = httpx.get(url, headers=auth("mallory", "customer"))
    assert other.status_code == 404 and "alice-private" not in other.text
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    staff_without_role = httpx.get(url, headers=auth("packer-1", "warehouse_staff"))
    assert staff_without_role.status_code == 404
    assert httpx.get(url, headers=auth("agent-1", "support_agent")).status_code == 200
    # Someone else cannot pay (and so learn about) Alice's order either.
    journeys.wait_for_bill(slice_on_stack, "alice-private", order)
    assert journeys.pay(slice_on_stack, "mallory", order).status_code == 404
    # Staff actions need staff roles.
    as_customer = httpx.put(f"{slice_on_stack['fraud']}/fraud/reference-prices/jd/1", json={"price": "1.00"},
                            headers=auth("alice-private", "customer"))
    assert as_customer.status_code == 403


def test_bad_input_gets_a_problem_body(slice_on_stack):
    base = slice_on_stack["orders"]
    headers = auth("alice-bad", "customer")
    unknown_host = httpx.post(f"{base}/orders", headers=headers, json={
        "destination_country": "GB",
        "items": [{"product_url": "https://www.amazon.com/dp/B01", "sku": "x", "quantity": 1, "unit_price": "5"}]})
    assert unknown_host.status_code == 422
    assert "taobao.com" in unknown_host.json()["detail"] and "amazon" in unknown_host.json()["detail"]
    card_data = httpx.post(f"{slice_on_stack['payments']}/payments/orders/{uuid.uuid4()}",
                           headers={**headers, "Idempotency-Key": "k" * 10},
                           json={"method": "card", "payment_token": "pm_1", "card_number": "4111111111111111"})
    assert card_data.status_code == 422 and "card_number" in card_data.json()["detail"]
    assert "4111111111111111" not in card_data.text


def test_concurrent_commands_on_one_order_lose_no_update(slice_on_stack):
    from concurrent.futures import ThreadPoolExecutor

    base = slice_on_stack["orders"]
    order = journeys.place_order(base, "alice-race")
    journeys.wait_for_bill(slice_on_stack, "alice-race", order)
    keys = ["race-key-0001"] * 4 + ["race-key-0002"] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda key: journeys.pay(slice_on_stack, "alice-race", order, key=key), keys))
    assert {r.status_code for r in responses} <= {201, 409}
    accepted = {r.json()["payment_id"] for r in responses if r.status_code == 201}
    assert 1 <= len(accepted) <= 2  # one payment per key, however the race went
    # No lost update: every payment a caller was told about reaches the order once the provider
    # confirms it, and nothing else (the first payment, from wait_for_bill, is the third).
    final = wait_until(lambda: (o := journeys.get_order(base, "alice-race", order["order_id"]))
                       and len(o["payments"]) == len(accepted) + 1 and o, what="the payments to reach the order")
    assert accepted <= {p["payment_id"] for p in final["payments"]}


def test_a_retried_order_with_the_same_key_places_one_order(slice_on_stack, stack):
    """A frontend that lost the answer retries, even several times at once: one order."""
    from concurrent.futures import ThreadPoolExecutor

    from service_runtime.eventlog import topic_for
    from tests.support import envelopes

    base, customer = slice_on_stack["orders"], "alice-retry"
    body = {"destination_country": "GB", "items": [{"product_url": journeys.TAOBAO_ITEM.format(item="6543217890"),
                                                    "sku": "black-M", "quantity": 2, "unit_price": "99.50"}]}
    headers = {**auth(customer, "customer"), "Idempotency-Key": f"place-{uuid.uuid4()}"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: httpx.post(f"{base}/orders", json=body, headers=headers, timeout=30),
                                range(6)))
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    assert len({a.json()["order_id"] for a in answers}) == 1
    order_id = answers[0].json()["order_id"]
    other_body = httpx.post(f"{base}/orders", json={**body, "destination_country": "DE"}, headers=headers, timeout=30)
    assert other_body.status_code == 422 and "Idempotency-Key" in other_body.json()["detail"]
    another_key = httpx.post(f"{base}/orders", json=body, timeout=30,
                             headers={**headers, "Idempotency-Key": f"place-{uuid.uuid4()}"})
    assert another_key.status_code == 201 and another_key.json()["order_id"] != order_id
    journeys.wait_for_status(base, customer, another_key.json()["order_id"], "awaiting_payment")

    def placed_events() -> list:
        return [e for e in envelopes(stack["kafka"], topic_for("orders", slice_on_stack["namespace"]))
                if e.type == "orders.OrderPlaced" and e.payload["customer_id"] == customer]

    wait_until(lambda: len(placed_events()) >= 2, what="the relay to publish both orders")
    assert sorted(str(e.aggregate_id) for e in placed_events()) == sorted([order_id, another_key.json()["order_id"]])


def test_an_idle_keep_alive_connection_is_still_served(slice_on_stack):
    """A client that reuses its connection after a pause (httpx keeps one 5 s) finds the server
    still listening on it, rather than closing it as the request arrives."""
    url = httpx.URL(slice_on_stack["orders"])
    connection = http.client.HTTPConnection(url.host, url.port, timeout=10)
    try:
        for pause in (0, 6):
            time.sleep(pause)
            connection.request("GET", "/healthz")
            response = connection.getresponse()  # RemoteDisconnected if the server closed it
            assert (response.status, response.read()) == (200, b'{"status":"ok"}'), f"after {pause} s idle"
    finally:
        connection.close()
