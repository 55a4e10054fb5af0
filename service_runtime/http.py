"""The HTTP app factory every gateway uses: auth, problem+json errors, health, metrics."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any, Awaitable, Callable, Iterable, Sequence

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from service_runtime import database, error_catalogue
from service_runtime.auth import AuthError, Caller
from service_runtime.errors import DomainError
from service_runtime.problems import (MESSAGES, PROBLEM, documented_responses, field_message,
                                      problem_schemas,
                                      inputs_of, scrub, title, wants_chinese, words)
from service_runtime.request_context import CorrelateAndTime, caller_of

log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False)


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes as the app's own. FastAPI keeps an included router as a branch it
    matches on every request (once to choose the branch, again within it) and whose routes the
    app's route list does not show, so the Allow header of a 405, built from that list, was empty."""
    for route in router.routes:
        if not isinstance(route, Route):  # APIRoute is one; a router included in this one is not
            raise TypeError(f"{router.prefix or 'a router'} includes another router: join them with merged_router")
        app.router.routes.append(route)


def merged_router(*routers: APIRouter) -> APIRouter:
    """One router holding the routes of several, as a gateway takes them (`add_routes`), where
    `include_router` would nest them as a branch."""
    merged = APIRouter()
    for router in routers:
        merged.routes.extend(router.routes)
    return merged


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    headers = {**({"WWW-Authenticate": "Bearer"} if status == 401 else {}), **(headers or {})}
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers or None)


async def _answer(request: Request, status: int, detail: str | tuple[str, str],
                  headers: dict[str, str] | None = None, custom_title: str | None = None,
                  **extra: Any) -> JSONResponse:
    """A problem in the caller's language (Accept-Language), its detail scrubbed of their input."""
    chinese = wants_chinese(request.headers.get("accept-language"))
    if isinstance(detail, tuple):
        detail = words(detail, chinese)
    try:
        body = await request.body()
    except RuntimeError:  # already streamed to the route; its values may still be in the path or query
        body = b""
    inputs = inputs_of(request.path_params, request.query_params.multi_items(), body)
    return problem(status, custom_title or title(status, chinese), scrub(detail, inputs), headers, **extra)


async def current_caller(request: Request,
                         creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Caller:
    """The verified caller (async and taken from the request's scope: the middleware verified the
    token already, and a short dependency needs no thread-pool hop)."""
    if creds is None:
        raise HTTPException(401, "token_required")
    try:
        return caller_of(request.scope, creds.credentials)
    except AuthError as exc:
        raise HTTPException(401, str(exc)) from exc


def require_roles(*roles: str) -> Callable[[Caller], Awaitable[Caller]]:
    """Dependency: the caller must hold one of `roles` (admin holds them all)."""

    async def check(caller: Caller = Depends(current_caller)) -> Caller:
        if not caller.has_any(*roles):
            raise HTTPException(403, f"this action needs one of the roles {sorted(roles)}")
        return caller

    return check


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
        add_routes(app, router)
    document_problems(app)

    app.add_middleware(CorrelateAndTime, metrics_label=metrics_label)

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 405:  # Allow: every method any router serves on this path
            allowed = sorted({method for route in request.app.routes if isinstance(route, APIRoute)
                              and route.path_regex.match(request.url.path) for method in route.methods})
            return await _answer(request, 405, MESSAGES["wrong_method"], headers={"Allow": ", ".join(allowed)})
        if exc.status_code == 404 and request.scope.get("route") is None:
            return await _answer(request, 404, MESSAGES["unknown_path"])
        return await _answer(request, exc.status_code, MESSAGES.get(str(exc.detail), str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            return await _answer(request, 400, MESSAGES["unparsable"])
        chinese = wants_chinese(request.headers.get("accept-language"))
        errors = [{"field": ".".join(str(p) for p in err["loc"]), "message": field_message(err, chinese)}
                  for err in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return await _answer(request, 422, detail, errors=errors)

    @app.exception_handler(DomainError)
    async def refused(request: Request, exc: DomainError):
        code, chinese = error_catalogue.worded(str(exc), chinese=True)  # the caller's language picks
        coded = {"code": code} if code else {}
        return await _answer(request, exc.status, (str(exc), chinese), custom_title=getattr(exc, "title", None),
                             **coded, **exc.fields)

    @app.exception_handler(AggregateNotFoundError)
    async def not_found(request: Request, exc: AggregateNotFoundError):
        return await _answer(request, 404, MESSAGES["unknown_path"])

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, exc: IntegrityError):
        return await _answer(request, 409, MESSAGES["concurrent"])

    def database_away(_: Request, exc: Exception):
        # A restart or an outage of PostgreSQL: the client should retry, the server has no bug.
        if database.disk_full(exc):
            log.error("the database has no disk space left: writes are refused until space is freed")
            return problem(503, "Service Unavailable", "the database has no disk space left; retry later",
                           headers={"Retry-After": str(database.DISK_FULL_RETRY_AFTER_SECONDS)})
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


def document_problems(app: FastAPI) -> None:
    """Every operation documents the error statuses it can answer, with the problem body's schema
    (in place of FastAPI's default 422 shape, which no route returns). Done on the generated
    document, so routes added by any service are covered without a line of their own."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(problem_schemas())
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.setdefault("responses", {}).update(documented_responses())
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
