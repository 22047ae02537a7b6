"""Dependencies shared by the routers: the app's services and the signed-in principal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Engine

from services.access import Principal
from services.auth import read_token
from services.config import Settings
from services.journeys import JourneyService
from services.users import load_principal
from workflow.machines import Registry

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass
class AppServices:
    """What the lifespan builds once per process and every request shares."""

    settings: Settings
    engine: Engine
    registry: Registry
    journeys: JourneyService


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


def get_principal(services: Services, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    """The signed-in user, or 401."""
    if not token:
        raise _unauthorised("Sign in first: send Authorization: Bearer <token>.")
    user_id = read_token(token, services.settings.secret_key)
    if user_id is None:
        raise _unauthorised("The token is invalid or has expired; sign in again.")
    principal = load_principal(services.engine, user_id)
    if principal is None:
        raise _unauthorised("The account is unknown or disabled.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(principal: Principal, *roles: str) -> None:
    """403 unless the principal has one of ``roles``."""
    if principal.roles.isdisjoint(roles):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=f"This needs one of the roles: {', '.join(roles)}.",
        )
