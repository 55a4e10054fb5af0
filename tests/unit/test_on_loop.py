"""`@on_loop` endpoints run on the server's event loop, with their parameters and dependencies
resolved as before; a slow call or a database outage sends them back to worker threads for a
while, so the loop is held at most once."""

from __future__ import annotations

import asyncio
import threading
import time
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from service_runtime import database, on_loop as module
from service_runtime.on_loop import LoopGuard, on_loop


class Body(BaseModel):
    quantity: int


async def caller() -> str:
    return "customer-1"


@pytest.fixture
def guard(monkeypatch):
    now = [1000.0]
    guard = LoopGuard(clock=lambda: now[0])
    monkeypatch.setattr(module, "guard", guard)
    guard.now = now
    return guard


def app_with(state: dict) -> FastAPI:
    router = APIRouter()

    @router.post("/items/{item_id}")
    @on_loop
    def change(item_id: UUID, body: Body, who: str = Depends(caller)):
        state["now"][0] += state.get("takes", 0.0)
        if state.get("database_away"):
            raise database.DatabaseUnavailable("the store is restarting")
        return {"item_id": str(item_id), "quantity": body.quantity, "who": who,
                "on_loop": threading.get_ident() == state["loop_thread"]}

    @router.post("/plain")
    def plain():
        return {"on_loop": threading.get_ident() == state["loop_thread"]}

    app = FastAPI()
    app.include_router(router)
    app.add_exception_handler(database.DatabaseUnavailable, 
                              lambda request, exc: JSONResponse({"detail": str(exc)}, status_code=503))
    return app


def requests(app: FastAPI, state: dict, calls: list[tuple[str, dict]]) -> list[httpx.Response]:
    async def run():
        state["loop_thread"] = threading.get_ident()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.post(path, json=body) for path, body in calls]

    return asyncio.run(run())


def test_an_endpoint_on_the_loop_gets_its_parameters_and_the_plain_one_a_thread(guard):
    state = {"now": guard.now}
    item = uuid4()
    on, plain, invalid = requests(app_with(state), state, [
        (f"/items/{item}", {"quantity": 3}), ("/plain", {}), (f"/items/{item}", {"quantity": "three"})])
    assert on.json() == {"item_id": str(item), "quantity": 3, "who": "customer-1", "on_loop": True}
    assert plain.json() == {"on_loop": False}
    assert invalid.status_code == 422  # the body is validated as before


def test_a_slow_call_sends_the_endpoints_to_threads_for_a_while(guard):
    state = {"now": guard.now, "takes": module.SLOW_SECONDS * 2}
    item = f"/items/{uuid4()}"
    slow, next_one = requests(app_with(state), state, [(item, {"quantity": 1}), (item, {"quantity": 1})])
    assert slow.json()["on_loop"] is True
    assert next_one.json()["on_loop"] is False, "after a slow call: a worker thread"

    state["takes"] = 0.0
    guard.now[0] += module.THREADS_FOR
    (again,) = requests(app_with(state), state, [(item, {"quantity": 1})])
    assert again.json()["on_loop"] is True, "back on the loop once the while has passed"


def test_a_database_outage_sends_the_endpoints_to_threads_and_still_answers(guard):
    state = {"now": guard.now, "database_away": True}
    item = f"/items/{uuid4()}"
    (away,) = requests(app_with(state), state, [(item, {"quantity": 1})])
    assert away.status_code == 503
    assert not guard.on_loop()

    state["database_away"] = False
    (served,) = requests(app_with(state), state, [(item, {"quantity": 1})])
    assert served.status_code == 200 and served.json()["on_loop"] is False


def test_the_guard_keeps_real_time():
    guard = LoopGuard()
    assert guard.on_loop()
    guard.trip("an endpoint", "was slow")
    assert not guard.on_loop() and guard.threads_until > time.monotonic()
