"""Who may see and change which child's records.

Social workers, team managers and read-only users work within their team. Managers above
the team, panel members and the ADM work across the authority's children in care. A system
administrator manages users and configuration and sees no child data unless also given a
case role.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from states.roles import (
    ADM,
    IRO,
    PANEL_ADMIN,
    PANEL_CHAIR,
    READ_ONLY,
    SERVICE_DIRECTOR,
    SERVICE_MANAGER,
    SOCIAL_WORKER,
    TEAM_MANAGER,
)
from workflow.engine import Actor

TEAM_ROLES = frozenset({SOCIAL_WORKER, TEAM_MANAGER, READ_ONLY})
AUTHORITY_ROLES = frozenset({SERVICE_MANAGER, SERVICE_DIRECTOR, PANEL_CHAIR, PANEL_ADMIN, ADM, IRO})
# Roles that change child records; the others only read.
WRITE_ROLES = frozenset(
    {SOCIAL_WORKER, TEAM_MANAGER, SERVICE_MANAGER, SERVICE_DIRECTOR, PANEL_CHAIR, ADM, IRO}
)
CHILD_EDIT_ROLES = frozenset({SOCIAL_WORKER, TEAM_MANAGER, SERVICE_MANAGER})
# Allocation is a manager's decision: a team manager within their team, a service manager
# across teams (moving the child to the new social worker's team).
REALLOCATE_ROLES = frozenset({TEAM_MANAGER, SERVICE_MANAGER})
MOVE_TEAM_ROLES = frozenset({SERVICE_MANAGER})


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the rules see them: id, roles and team."""

    user_id: int
    username: str
    roles: frozenset[str]
    team: str | None

    @cached_property
    def actor(self) -> Actor:
        """The user as the journey engine knows them."""
        return Actor(self.user_id, self.roles)

    @property
    def sees_all_children(self) -> bool:
        """Whether the user's roles reach every child in care."""
        return not self.roles.isdisjoint(AUTHORITY_ROLES)

    @property
    def sees_children(self) -> bool:
        """Whether the user may see any child data at all."""
        return self.sees_all_children or (not self.roles.isdisjoint(TEAM_ROLES) and bool(self.team))

    def visible_teams(self) -> frozenset[str] | None:
        """The teams whose children the user sees; None means every team."""
        if self.sees_all_children:
            return None
        if self.team and not self.roles.isdisjoint(TEAM_ROLES):
            return frozenset({self.team})
        return frozenset()


def child_refusal(principal: Principal, child_team: str, *, write: bool) -> str | None:
    """Why ``principal`` may not see (or, with ``write``, change) a child of ``child_team``."""
    teams = principal.visible_teams()
    if teams is not None and child_team not in teams:
        if not principal.sees_children:
            return "Your roles give no access to children's records."
        return "This child belongs to another team."
    if write and principal.roles.isdisjoint(WRITE_ROLES):
        return "Your roles allow reading only."
    return None
