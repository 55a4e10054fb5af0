"""The customer portal as its own process (`kongfu portal`, as `make up` and the cluster run it)
in front of the services on the real broker and database: it signs a customer in, shows their
timeline with the inspection photos from the warehouse's PostgreSQL photo store, and shows
another customer none of it."""

from __future__ import annotations

import hashlib
import re
import uuid

import httpx

from kongfu.demo import Lifecycle
from services.logistics.carriers import FakeCarrier
from tests.support import CARRIER_SECRET, token


def signed_in(portal_url: str, customer: str) -> httpx.Client:
    client = httpx.Client(base_url=portal_url, timeout=30, headers={"Accept-Language": "zh-CN"})
    response = client.post("/portal/sign-in", data={"customer_id": customer})
    assert response.status_code == 303 and "kongfu_token" in client.cookies
    return client


def test_the_portal_process_reads_the_gateways_and_the_photo_store(platform_on_stack, launch):
    urls = {name: url for name, url in platform_on_stack.items() if isinstance(url, str) and url.startswith("http")}
    env = {**platform_on_stack["env"], "KONGFU_PORTAL_GATEWAYS": ",".join(f"{n}={u}" for n, u in urls.items())}
    portal = launch(["portal"], env, "portal")
    assert httpx.get(f"{portal.url}/healthz").status_code == 200

    trip = Lifecycle(platform_on_stack, lambda s, r: token(s, r), FakeCarrier(CARRIER_SECRET).webhook)
    order = trip.place_and_pay([{"product_url": "https://item.taobao.com/item.htm?id=6543217890",
                                 "sku": "celadon vase, 30cm", "quantity": 1, "unit_price": "268.00"}])
    (task,) = trip.tasks(order["order_id"], 1)
    code = trip.receive(order["order_id"], trip.purchase_and_ship(task, "general", "268.00"), 1)
    trip.inspect_and_store(code, 1, high_risk=False)
    trip.timeline_until(order["order_id"], "stored")

    mine = signed_in(portal.url, trip.customer)
    listing = mine.get("/portal/orders")
    assert listing.status_code == 200 and order["order_id"] in listing.text and 'lang="zh-CN"' in listing.text
    page = mine.get(f"/portal/orders/{order['order_id']}")
    sources = re.findall(r'src="(/portal/photos/[^"]+)"', page.text)
    assert page.status_code == 200 and len(sources) == 3, page.text
    for source in sources:
        photo = mine.get(source)
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
        assert hashlib.sha256(photo.content).hexdigest() == source.rsplit("/", 1)[1]

    stranger = signed_in(portal.url, f"stranger-{uuid.uuid4().hex[:6]}")
    assert stranger.get(f"/portal/orders/{order['order_id']}").status_code == 404
    assert stranger.get(sources[0]).status_code == 404
