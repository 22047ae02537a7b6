"""User administration (system administrators; unlocking also team managers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from app.api.deps import CurrentPrincipal, Services, require_roles
from app.api.params import PathId
from app.api.responses import READ, ErrorOut, errors
from services import sign_in
from services.schemas import UserCreate
from services.users import create_user, list_users
from states.roles import SYSADMIN

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", responses=errors(401, 403))
def users(services: Services, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """Every user (no password hashes)."""
    require_roles(principal, SYSADMIN)
    return list_users(services.engine)


@router.post("", status_code=status.HTTP_201_CREATED, responses=errors(400, 401, 403, 422))
def add_user(body: UserCreate, services: Services, principal: CurrentPrincipal) -> dict[str, Any]:
    """Create a user with roles and a team."""
    require_roles(principal, SYSADMIN)
    user_id = create_user(services.engine, actor_id=principal.user_id, **body.model_dump())
    return {"id": user_id, "username": body.username}


@router.post(
    "/{user_id}/unlock",
    responses={
        **errors(*READ),
        403: {
            "model": ErrorOut,
            "description": "Neither a system administrator nor the user's team manager.",
        },
        404: {"model": ErrorOut, "description": "No such user."},
    },
)
def unlock_user(services: Services, principal: CurrentPrincipal, user_id: PathId) -> dict[str, Any]:
    """Lift the sign-in lock and back-off of a user's account (audited): system
    administrators for anyone, team managers for their own team's users."""
    was_locked = sign_in.unlock(services.engine, principal, user_id)
    return {"id": user_id, "was_locked": was_locked}
