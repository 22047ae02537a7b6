"""Dependencies shared by the routers: the app's services and the signed-in principal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from services.access import Principal
from services.auth import read_token
from services.config import Settings
from services.journeys import JourneyService
from services.principal_cache import PrincipalCache
from services.sign_in import PasswordGate
from services.users import load_principal, load_principal_async
from workflow.machines import Registry

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass
class AppServices:
    """What the lifespan builds once per process and every request shares."""

    settings: Settings
    engine: Engine
    registry: Registry
    journeys: JourneyService
    # SQLite work runs on the event loop: its writers queue on one in-process lock anyway, so
    # a thread-pool hop per call only adds cost (about a fifth of a request's CPU, measured
    # with py-spy). On PostgreSQL the hot path (the principal, an event) awaits the journey
    # service's async engine on the loop, so a slow query waits without stalling it; other
    # blocking calls keep the thread pool.
    inline_db: bool
    # Bounds the argon2 checks running at once in this process (services.sign_in).
    password_gate: PasswordGate
    # Principals read in the last couple of seconds (services/principal_cache.py says how
    # long a revoked role may live).
    principals: PrincipalCache


T = TypeVar("T")


async def call_db(services: AppServices, fn: Callable[..., T], /, *args: Any, **kw: Any) -> T:
    """Run a blocking database call: inline on SQLite, in the thread pool otherwise."""
    if services.inline_db:
        return fn(*args, **kw)
    return await run_in_threadpool(fn, *args, **kw)


async def get_services(request: Request) -> AppServices:
    """The process's shared services.

    ``async`` because it does no I/O: FastAPI runs a plain ``def`` dependency in the thread
    pool, a thread hand-off on every request for an attribute read.
    """
    services: AppServices = request.app.state.services
    return services


Services = Annotated[AppServices, Depends(get_services)]


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=message,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def get_principal(
    services: Services, token: Annotated[str | None, Depends(oauth2)]
) -> Principal:
    """The signed-in user, or 401: read from the database at most every
    ``principal_cache_seconds`` per process (services/principal_cache.py)."""
    if not token:
        raise _unauthorised("Sign in first: send Authorization: Bearer <token>.")
    return await principal_for_token(services, token)


async def principal_for_token(services: AppServices, token: str) -> Principal:
    """The user a bearer token names, or 401 (an invalid or expired token, an unknown or
    disabled account)."""
    user_id = read_token(token, services.settings.secret_key)
    if user_id is None:
        raise _unauthorised("The token is invalid or has expired; sign in again.")
    principal = services.principals.get(user_id)
    if principal is not None:
        return principal
    generation = services.principals.generation
    async_engine = services.journeys.async_engine  # PostgreSQL's, for the hot path
    if async_engine is not None:
        principal = await load_principal_async(async_engine, user_id)
    else:
        principal = await call_db(services, load_principal, services.engine, user_id)
    if principal is None:
        raise _unauthorised("The account is unknown or disabled.")
    services.principals.put(principal, generation)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(principal: Principal, *roles: str) -> None:
    """403 unless the principal has one of ``roles``."""
    if principal.roles.isdisjoint(roles):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=f"This needs one of the roles: {', '.join(roles)}.",
        )
