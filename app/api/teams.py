"""Teams: the managed list (everyone signed in reads it; system administrators change it)."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import CurrentPrincipal, Services, require_roles
from app.api.responses import errors
from services.teams import add_team, list_teams, rename_team
from states.roles import SYSADMIN

router = APIRouter(prefix="/teams", tags=["teams"])


class TeamOut(BaseModel):
    name: str
    title: str


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    title: str | None = Field(default=None, max_length=200)


class TeamRename(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)


@router.get("", response_model=list[TeamOut], responses=errors(401))
def teams(services: Services, principal: CurrentPrincipal) -> list[TeamOut]:
    """Every team of the authority, by name (names and titles: no child data)."""
    del principal  # any signed-in user may read the list
    return [TeamOut(name=t.name, title=t.title) for t in list_teams(services.engine)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamOut,
    responses=errors(400, 401, 403, 422),
)
def add(body: TeamIn, services: Services, principal: CurrentPrincipal) -> TeamOut:
    """Add a team (system administrators)."""
    require_roles(principal, SYSADMIN)
    team = add_team(services.engine, body.name, body.title, actor_id=principal.user_id)
    return TeamOut(name=team.name, title=team.title)


@router.patch("/{name}", response_model=TeamOut, responses=errors(400, 401, 403, 404, 422))
def rename(name: str, body: TeamRename, services: Services, principal: CurrentPrincipal) -> TeamOut:
    """Give a team a new title (system administrators); records keep its name."""
    require_roles(principal, SYSADMIN)
    team = rename_team(services.engine, name, body.title, actor_id=principal.user_id)
    return TeamOut(name=team.name, title=team.title)
