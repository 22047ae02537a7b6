"""Sign-in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import CurrentPrincipal, Services
from app.api.responses import ErrorOut, errors
from services import sign_in as sign_in_rule
from services.auth import issue_token
from services.schemas import Me, Token

router = APIRouter(prefix="/auth", tags=["auth"])

_REFUSED: dict[int | str, dict[str, Any]] = {
    **errors(400, 401, 422),
    401: {"model": ErrorOut, "description": "Wrong username or password."},
    429: {
        "model": ErrorOut,
        "description": "Too many failed sign-ins (back-off or locked account), or too many "
        "password checks at once; `Retry-After` says how many seconds to wait.",
    },
}


def refused(exc: sign_in_rule.SignInRefused) -> Response:
    """The 429 answer to a throttled sign-in, with ``Retry-After``."""
    return JSONResponse(
        exc.body(), status_code=exc.status_code, headers={"Retry-After": str(exc.retry_after)}
    )


@router.post("/token", response_model=Token, responses=_REFUSED)
async def sign_in(
    request: Request, services: Services, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Any:
    """Exchange a username and password for a bearer token (throttled: services.sign_in)."""
    try:
        user_id = await sign_in_rule.sign_in(
            services.engine,
            services.settings,
            services.password_gate,
            username=form.username,
            password=form.password,
            address=request.client.host if request.client else None,
        )
    except sign_in_rule.SignInRefused as exc:
        return refused(exc)
    if user_id is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Wrong username or password.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    settings = services.settings
    return Token(access_token=issue_token(user_id, settings.secret_key, settings.token_minutes))


@router.get("/me", response_model=Me, responses=errors(401))
def me(principal: CurrentPrincipal) -> Me:
    """The signed-in user."""
    return Me(
        id=principal.user_id,
        username=principal.username,
        roles=sorted(principal.roles),
        team=principal.team,
    )
