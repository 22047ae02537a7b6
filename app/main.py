"""The FastAPI application: lifespan, routers, error answers, health checks."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.exceptions import HTTPException

import states
from app.api import auth, care_record, children, cohorts, deadlines, journeys, teams, users
from app.api import panel as panel_api
from app.api import panel_invitations as panel_invitations_api
from app.api.deps import AppServices
from app.api.notifications import ROUTERS as notification_routers
from app.api_docs import install_docs
from app.input_guard import NUL_PROBLEM
from app.request_gate import RequestGate
from app.web import install as install_pages
from app.web.deps import SignInRequired
from app.web.errors import error_page, is_page, sign_in_redirect
from services import logging as service_logging
from services.auth import configure_password_hashing
from services.config import Settings, get_settings
from services.db import is_sqlite, make_async_engine, make_engine
from services.journeys import JourneyService
from services.migrate import upgrade
from services.principal_cache import PrincipalCache
from services.sign_in import PasswordGate
from workflow.errors import EngineError

log = structlog.get_logger("permanence.app")


def build_services(settings: Settings) -> AppServices:
    """Engine, machines and services for one process (machines are built here, once)."""
    configure_password_hashing(settings)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    if settings.auto_migrate:
        upgrade(engine)
    registry = states.build_registry()
    async_engine = make_async_engine(settings.database_url, pool_size=settings.db_pool_size)
    return AppServices(
        settings=settings,
        engine=engine,
        registry=registry,
        journeys=JourneyService(engine, registry, settings.policy(), async_engine=async_engine),
        inline_db=is_sqlite(engine),
        password_gate=PasswordGate.from_settings(settings),
        principals=PrincipalCache(settings.principal_cache_seconds),
    )


def _refuse_nul(scope: Any, fields: list[str]) -> Response:
    request = Request(scope)
    if is_page(request):
        return error_page(request, 422, "The address or form is not valid.")
    return _invalid_request([f"{field}: {NUL_PROBLEM}" for field in fields])


def _invalid_request(errors: list[str]) -> Response:
    """The API's 422 for a request that is not valid, each problem named."""
    return JSONResponse(
        {"error": "invalid_request", "message": "The request is not valid.", "errors": errors},
        status_code=422,
    )


async def server_error(request: Request, exc: Exception) -> Response:
    """The answer to an unhandled error (logged by ``app.request_gate``): an error
    page, or the API's JSON; neither says what went wrong."""
    del exc  # its text is for no one: it may quote a child's details
    if is_page(request):
        return error_page(request, 500)
    return JSONResponse(
        {"error": "server_error", "message": "Sorry, something went wrong."}, status_code=500
    )


def _panel_refusal(settings: Settings) -> str | None:
    """Why the configured panel cannot be used (``permanence panel check``'s message), or
    None when it loads."""
    from panels.config import PanelConfigError, load_panel

    try:
        load_panel(settings.panel)
    except PanelConfigError as exc:
        problems = "".join(f"\n  - {p}" for p in exc.problems)
        return (
            f"error: PERMANENCE_PANEL={settings.panel!r} cannot be used "
            f"(run `permanence panel check`): {exc.source}{problems}"
        )
    return None


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application; ``settings`` default to the environment's."""
    settings = settings or get_settings()
    # The production guard (issue 10): one line and a non-zero exit, also under a bare uvicorn.
    if refusal := settings.production_refusal():
        raise SystemExit(f"error: {refusal}")
    # A mistyped PERMANENCE_PANEL (issue 14 item 6) must not start a service that says it
    # is ready and answers 500 on every panel call: refuse to start, as ``panel check`` says.
    if refusal := _panel_refusal(settings):
        raise SystemExit(refusal)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service_logging.configure(settings.log_level, settings.log_format)
        services = build_services(settings)
        app.state.services = services
        # What start-up built (modules, routes, tables, machines: about 260,000 objects) lives
        # as long as the process; frozen, the collector's full passes stop walking it. A full
        # pass over it stops the event loop (2-3 s measured at load 10 on 2 cores).
        gc.collect()
        gc.freeze()
        log.info("started", database=services.engine.dialect.name)
        # Reminders (issue 3): the scheduler only triggers sweeps; the database remembers.
        scheduler = None
        if settings.scheduler_enabled:
            from notifications.scheduler import start_from_settings

            scheduler = start_from_settings(services.engine, settings)
        try:
            yield
        finally:
            # Collectable again: a process that builds several apps (the tests) would
            # otherwise keep every stopped one's cycles.
            gc.unfreeze()
            if scheduler is not None:
                scheduler.shutdown(wait=True)
            services.engine.dispose()
            if services.journeys.async_engine is not None:
                await services.journeys.async_engine.dispose()

    app = FastAPI(
        title="Permanence panels",
        version="0.1.0",
        description="Case progression for children's permanence panels.",
        lifespan=lifespan,
        # Served by install_docs from vendored files, or not at all.
        docs_url=None,
        redoc_url=None,
    )
    if settings.docs_enabled:
        install_docs(app)
    # The security headers, the request id and log line, the body limit, the NUL guard and
    # the unhandled-error answer, in that order from the outside in, as one middleware (the
    # innermost: inside it an unhandled error is answered, app/server_errors.py says why not
    # by Starlette). A transition, the hot path, is answered by its shortcut.
    app.add_middleware(
        RequestGate,
        max_bytes=settings.request_max_bytes,
        max_upload_bytes=settings.upload_max_bytes,
        refuse_nul=_refuse_nul,
        answer_error=server_error,
        shortcut=journeys.fire_event_shortcut,
    )

    for router in (
        auth.router,
        children.router,
        journeys.router,
        deadlines.router,
        users.router,
        teams.router,
        care_record.router,
        cohorts.router,
        care_record.child_router,
    ):
        app.include_router(router, prefix="/api/v1")
    for router in notification_routers:
        app.include_router(router, prefix="/api/v1")
    app.include_router(panel_api.router, prefix="/api/v1")
    app.include_router(panel_invitations_api.router, prefix="/api/v1")
    install_pages(app)

    # Each handler answers the API in JSON and a page with a friendly HTML page.
    @app.exception_handler(EngineError)
    async def engine_error(request: Request, exc: EngineError) -> Response:
        if is_page(request):
            return error_page(request, exc.status_code, exc.message)
        return JSONResponse(exc.body(), status_code=exc.status_code)

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, _exc: SignInRequired) -> Response:
        return sign_in_redirect(request)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if is_page(request):
            return error_page(request, exc.status_code, str(exc.detail))
        codes = {401: "unauthorised", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            {"error": codes.get(exc.status_code, "error"), "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if is_page(request):
            # An id out of range in the address names no page; a bad query or form is 422.
            if all(e["loc"][:1] == ("path",) for e in exc.errors()):
                return error_page(request, 404)
            return error_page(request, 422, "The address or form is not valid.")
        return _invalid_request(
            [
                f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}"
                for e in exc.errors()
            ]
        )

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz(request: Request) -> Any:
        """The database answers."""
        try:
            with request.app.state.services.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means not ready
            log.warning("not_ready", error=type(exc).__name__)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return {"status": "ok"}

    return app
