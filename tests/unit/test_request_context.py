"""The lean request path: the bearer token is verified once per request, the correlation id and
the actor reach the events the request causes, and every request is timed by route."""

from __future__ import annotations

from uuid import UUID

import pytest

from service_runtime import request_context
from service_runtime.auth import verify_token
from service_runtime.metrics import HTTP_LATENCY
from services.orders.bootstrap import bootstrap as orders_bootstrap
from tests.apptest import ServiceHarness
from tests.e2e.journeys import TAOBAO_ITEM
from tests.support import auth


@pytest.fixture
def orders(tmp_path):
    return ServiceHarness(orders_bootstrap, tmp_path)


@pytest.fixture
def verifications(monkeypatch):
    calls: list[str] = []

    def counting(secret, token, *, issuer):
        calls.append(token)
        return verify_token(secret, token, issuer=issuer)

    monkeypatch.setattr(request_context, "verify_token", counting)
    return calls


def _requests_seen(route: str, status: str) -> float:
    for metric in HTTP_LATENCY.collect():
        for sample in metric.samples:
            if (sample.name.endswith("_count") and sample.labels.get("route") == route
                    and sample.labels.get("status") == status and sample.labels.get("service") == "test"):
                return sample.value
    return 0.0


def test_a_command_verifies_its_token_once_and_its_events_carry_the_request(orders, verifications):
    body = {"destination_country": "GB", "items": [{"product_url": TAOBAO_ITEM.format(item=12345),
                                                     "sku": "colour:black", "quantity": 1, "unit_price": "10.00"}]}
    before = _requests_seen("/orders", "201")
    response = orders.client.post("/orders", json=body,
                                  headers={**auth("alice", "customer"), "X-Correlation-Id": "corr-lean-1"})
    assert response.status_code == 201, response.text
    assert len(verifications) == 1  # the middleware's verification serves the route's dependency
    assert response.headers["x-correlation-id"] == "corr-lean-1"
    assert _requests_seen("/orders", "201") == before + 1
    placed = list(orders.app.events.get(UUID(response.json()["order_id"])))
    assert placed[0].trace["correlation_id"] == "corr-lean-1"
    assert placed[0].trace["actor"] == "customer:alice"


def test_a_refused_token_is_verified_once_and_answered_401(orders, verifications):
    response = orders.client.get("/orders/00000000-0000-0000-0000-000000000001",
                                 headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["x-correlation-id"]  # a new one when the caller sent none
    assert verifications == ["not-a-token"]


def test_unmatched_paths_are_timed_under_one_series(orders):
    before = _requests_seen("unmatched", "404")
    assert orders.client.get("/no/such/path/at/all").status_code == 404
    assert _requests_seen("unmatched", "404") == before + 1
