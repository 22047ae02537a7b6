"""Sign-in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import CurrentPrincipal, Services
from app.api.responses import errors
from services.auth import issue_token
from services.schemas import Me, Token
from services.users import authenticate

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token, responses=errors(400, 401, 422))
def sign_in(services: Services, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Exchange a username and password for a bearer token."""
    user_id = authenticate(services.engine, form.username, form.password)
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
