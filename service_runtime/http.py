"""The HTTP app factory every gateway uses: auth, problem+json errors, health, metrics."""

from __future__ import annotations

import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, Awaitable, Callable, Iterable, Sequence

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service_runtime import database
from service_runtime.auth import AuthError, Caller, verify_token
from service_runtime.errors import DomainError
from service_runtime.metrics import HTTP_LATENCY
from service_runtime.settings import get_settings
from service_runtime.tracing import trace

PROBLEM = "application/problem+json"
_bearer = HTTPBearer(auto_error=False)


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def current_caller(creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Caller:
    if creds is None:
        raise HTTPException(401, "a bearer token is required (Authorization: Bearer <token>)")
    settings = get_settings()
    try:
        return verify_token(settings.resolved_jwt_secret(), creds.credentials, issuer=settings.jwt_issuer)
    except AuthError as exc:
        raise HTTPException(401, str(exc)) from exc


def require_roles(*roles: str) -> Callable[[Caller], Caller]:
    """Dependency: the caller must hold one of `roles` (admin holds them all)."""

    def check(caller: Caller = Depends(current_caller)) -> Caller:
        if not caller.has_any(*roles):
            raise HTTPException(403, f"this action needs one of the roles {sorted(roles)}")
        return caller

    return check


def _actor(request: Request) -> str | None:
    """Who is calling, for the events this request causes (authorisation happens in the route)."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    settings = get_settings()
    try:
        caller = verify_token(settings.resolved_jwt_secret(), header[7:], issuer=settings.jwt_issuer)
    except AuthError:
        return None
    role = sorted(caller.roles)[0] if len(caller.roles) == 1 else "staff" if caller.is_staff else "customer"
    return f"{role}:{caller.subject}"


ReadinessCheck = Callable[[], Awaitable[None]]
BackgroundTask = Callable[[Any], Awaitable[None]]  # receives an asyncio.Event that asks it to stop


def create_app(title: str, routers: Iterable[APIRouter], *, metrics_label: str,
               readiness: Sequence[ReadinessCheck] = (), background: Sequence[BackgroundTask] = (),
               on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
               degradations: Sequence[Callable[[], str | None]] = ()) -> FastAPI:
    """`readiness` checks fail /readyz (503); `degradations` name trouble the process works
    through (a broker away: the outbox holds the events), shown by /readyz without failing it."""
    import asyncio

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = asyncio.Event()
        tasks = [asyncio.create_task(task(stop)) for task in background]
        app.state.background_tasks = tasks
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                try:
                    await asyncio.wait_for(task, timeout=10)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    task.cancel()
                except Exception:  # noqa: BLE001 - shutting down; already logged by the task
                    pass
            for hook in on_shutdown:
                await hook()

    app = FastAPI(title=title, lifespan=lifespan, version="1.0")
    for router in routers:
        app.include_router(router)

    @app.middleware("http")
    async def correlate_and_time(request: Request, call_next):
        correlation_id = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        started = time.perf_counter()
        with trace(correlation_id=correlation_id, actor=_actor(request)):
            response = await call_next(request)
        route = request.scope.get("route")
        HTTP_LATENCY.labels(metrics_label, request.method, getattr(route, "path", "unmatched"),
                            str(response.status_code)).observe(time.perf_counter() - started)
        response.headers["X-Correlation-Id"] = correlation_id
        return response

    @app.exception_handler(HTTPException)
    async def http_problem(_: Request, exc: HTTPException):
        title = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}.get(
            exc.status_code, "Error")
        return problem(exc.status_code, title, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError):
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(DomainError)
    async def refused(_: Request, exc: DomainError):
        titles = {404: "Not Found", 409: "Conflict", 403: "Forbidden"}
        title = titles.get(exc.status) or getattr(exc, "title", "Unprocessable request")
        return problem(exc.status, title, str(exc), **exc.fields)

    @app.exception_handler(AggregateNotFoundError)
    async def not_found(_: Request, exc: AggregateNotFoundError):
        return problem(404, "Not Found", "no such resource")

    @app.exception_handler(IntegrityError)
    async def conflict(_: Request, exc: IntegrityError):
        return problem(409, "Conflict", "the resource changed concurrently; retry the request")

    def database_away(_: Request, exc: Exception):
        # A restart or an outage of PostgreSQL: the client should retry, the server has no bug.
        return problem(503, "Service Unavailable",
                       f"the database is unavailable ({exc.__class__.__name__}); retry shortly",
                       headers={"Retry-After": str(database.RETRY_AFTER_SECONDS)})

    for unavailable in (database.DatabaseUnavailable, *database.UNAVAILABLE_ERRORS):
        app.add_exception_handler(unavailable, database_away)

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz():
        problems = []
        for check in readiness:
            try:
                await check()
            except Exception as exc:  # noqa: BLE001 - reported in the body
                problems.append(f"{getattr(check, '__name__', 'check')}: {exc}")
        for task in getattr(app.state, "background_tasks", []):
            if task.done():
                problems.append(f"background task {task.get_name()} stopped")
        if problems:
            return problem(503, "Not ready", "; ".join(problems),
                           headers={"Retry-After": str(database.RETRY_AFTER_SECONDS)})
        degraded = [note for note in (check() for check in degradations) if note]
        return {"status": "ready", "degraded": degraded} if degraded else {"status": "ready"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics():
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
