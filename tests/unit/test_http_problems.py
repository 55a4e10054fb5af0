"""What every gateway answers when something is wrong, whatever the route: problem+json with a
documented shape, in the caller's language, never echoing what the caller sent."""

from __future__ import annotations

import pytest

from services.orders.bootstrap import bootstrap as orders_bootstrap
from services.warehouse.bootstrap import bootstrap as warehouse_bootstrap
from service_runtime.problems import DOCUMENTED_STATUSES, PROBLEM, Problem
from tests.apptest import ServiceHarness
from tests.support import auth

CARD = "4111 1111 1111 1111"


@pytest.fixture
def orders(tmp_path):
    return ServiceHarness(orders_bootstrap, tmp_path)


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = Problem.model_validate(response.json()).model_dump()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_unknown_paths_wrong_methods_and_unparsable_bodies_are_problems(orders):
    is_problem(orders.client.get("/no/such/path"), 404)
    wrong_method = orders.client.delete("/orders", headers=auth("alice", "customer"))
    is_problem(wrong_method, 405)
    assert wrong_method.headers["allow"] == "GET, POST"  # what the path does accept (RFC 9110 15.5.6)
    unparsable = orders.client.post("/orders", content=b'{"destination_country": "GB", "items": [',
                                    headers={**auth("alice", "customer"), "content-type": "application/json"})
    is_problem(unparsable, 400)


def test_a_wrong_method_names_the_allowed_ones_on_a_path_another_router_serves(tmp_path):
    warehouse = ServiceHarness(warehouse_bootstrap, tmp_path)  # its traces and `/me` come from its projections
    for path, allowed in (("/warehouse/inbound", "POST"), ("/warehouse/trace/KF-1", "GET"), ("/me/items", "GET")):
        response = warehouse.client.put(path, headers=auth("alice", "customer"))
        is_problem(response, 405)
        assert response.headers["allow"] == allowed, path


def test_a_gateway_takes_routes_not_a_router_of_routers():
    from fastapi import APIRouter, FastAPI

    from service_runtime.http import add_routes

    inner, outer = APIRouter(prefix="/inner"), APIRouter()

    @inner.get("/x")
    def x() -> dict:
        return {}

    outer.include_router(inner)
    with pytest.raises(TypeError, match="includes another router: join them with merged_router"):
        add_routes(FastAPI(), outer)


def test_messages_never_echo_the_input(tmp_path):
    warehouse = ServiceHarness(warehouse_bootstrap, tmp_path)
    for path in (f"/warehouse/trace/{CARD}", f"/warehouse/items/{CARD}"):
        body = is_problem(warehouse.client.get(path, headers=auth("alice", "customer")), 422)
        assert "4111" not in str(body)
    shipment = warehouse.client.post("/warehouse/shipment-requests", headers=auth("alice", "customer"),
                                     json={"traceability_codes": [CARD], "destination_country": "GB"})
    assert shipment.status_code in (404, 409, 422) and "4111" not in shipment.text


def test_errors_speak_chinese_when_asked(orders):
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    body = is_problem(orders.client.get("/orders", headers=chinese), 401)
    assert body["title"] == "未认证" and "令牌" in body["detail"]
    invalid = orders.client.post("/orders", json={"destination_country": "gb", "items": []},
                                 headers={**auth("alice", "customer"), **chinese})
    body = is_problem(invalid, 422)
    assert body["title"] == "请求无效" and "格式不符合要求" in body["detail"]
    assert {e["field"] for e in body["errors"]} == {"body.destination_country", "body.items"}
    assert is_problem(orders.client.get("/nowhere"), 404)["title"] == "Not Found"  # English by default


def test_every_operation_documents_its_problems(orders):
    schema = orders.client.get("/openapi.json").json()
    assert set(schema["components"]["schemas"]["Problem"]["required"]) >= {"title", "status", "detail"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in DOCUMENTED_STATUSES:
                documented = operation["responses"][str(status)]["content"]
                assert documented[PROBLEM]["schema"]["$ref"] == "#/components/schemas/Problem", (method, path)
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_the_method_label_of_the_latency_metric_is_bounded(orders):
    orders.client.request("BREW", "/orders")
    metrics = orders.client.get("/metrics").text
    assert 'method="BREW"' not in metrics and 'method="other"' in metrics
