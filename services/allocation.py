"""Allocating the children an import left unallocated (issue 13 item 4).

The SSDA903 return names no team or social worker. A child imported without an allocation
has the team ``""`` (``care_record.importer.UNALLOCATED_TEAM``), so no team's users see it;
it is listed here, by reference only, for the managers who allocate: service managers (any
team) and team managers (into their own team only; before allocation the child is in no
team, so this list is how a team manager finds it). Allocating sets the team and the social
worker in one transaction, checked against the version the page was loaded at (a child
allocated meanwhile is refused with 409), moves the child's open social-worker deadlines to
the worker, and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, func, select, update

from services import audit
from services.access import MOVE_TEAM_ROLES, REALLOCATE_ROLES, Principal
from services.care_record.importer import UNALLOCATED_TEAM
from services.children import _check_social_worker, move_open_deadlines
from services.clock import now_utc
from services.db import read_connection, write_connection
from services.journeys import AccessDenied, NotFound
from services.models import CHILDREN as C
from services.teams import require_team
from workflow.errors import EngineError, StaleVersion

MAX_LISTED = 500


class AlreadyAllocated(EngineError):
    """The child has a team already: reallocation is the child's own edit page."""

    status_code = 409
    code = "already_allocated"


@dataclass(frozen=True)
class UnallocatedChild:
    """A child waiting for a team and a social worker, as the list shows them."""

    id: int
    reference: str
    looked_after_since: date | None
    legal_status: str | None
    version: int


def _may_allocate(principal: Principal) -> None:
    if principal.roles.isdisjoint(REALLOCATE_ROLES):
        raise AccessDenied("Only a team manager or service manager allocates children.")
    if principal.roles.isdisjoint(MOVE_TEAM_ROLES) and not principal.team:
        raise AccessDenied("A team manager allocates into their own team, and you have none.")


def allowed_teams(principal: Principal, teams: list[str]) -> list[str]:
    """The teams ``principal`` may allocate into, of ``teams`` (the managed list)."""
    if not principal.roles.isdisjoint(MOVE_TEAM_ROLES):
        return teams
    return [t for t in teams if t == principal.team]


def _row(child: Any) -> UnallocatedChild:
    return UnallocatedChild(
        id=child.id,
        reference=child.reference,
        looked_after_since=child.looked_after_since,
        legal_status=child.legal_status,
        version=child.version,
    )


_COLUMNS = (C.c.id, C.c.reference, C.c.looked_after_since, C.c.legal_status, C.c.version)


def unallocated_children(
    engine: Engine, principal: Principal, *, page: int = 1
) -> list[UnallocatedChild]:
    """One page (:data:`MAX_LISTED` a page) of the children in no team, by reference;
    audited."""
    _may_allocate(principal)
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(*_COLUMNS)
            .where(C.c.team == UNALLOCATED_TEAM)
            .order_by(C.c.reference, C.c.id)
            .offset((max(page, 1) - 1) * MAX_LISTED)
            .limit(MAX_LISTED)
        ).all()
    found = [_row(r) for r in rows]
    audit.audit_read(engine, principal, "unallocated", [c.id for c in found])
    return found


def unallocated_count(engine: Engine, principal: Principal) -> int:
    """How many children are in no team (names no child, so nothing is audited)."""
    _may_allocate(principal)
    with read_connection(engine) as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(C).where(C.c.team == UNALLOCATED_TEAM)
            ).scalar_one()
        )


def unallocated_child(engine: Engine, principal: Principal, child_id: int) -> UnallocatedChild:
    """One child waiting for allocation (404 unknown, 409 allocated already); audited."""
    _may_allocate(principal)
    with read_connection(engine) as conn:
        row = conn.execute(select(*_COLUMNS, C.c.team).where(C.c.id == child_id)).first()
    if row is None:
        raise NotFound(f"There is no child {child_id}.")
    if row.team != UNALLOCATED_TEAM:
        raise AlreadyAllocated("This child has been allocated to a team already.")
    audit.audit_read(engine, principal, "unallocated", [child_id])
    return _row(row)


def allocate_child(
    engine: Engine,
    principal: Principal,
    child_id: int,
    *,
    team: str,
    social_worker_id: int,
    expected_version: int,
) -> None:
    """Give an unallocated child a team and a social worker of that team (a team manager:
    only their own team). One transaction, version-checked, audited."""
    _may_allocate(principal)
    if principal.roles.isdisjoint(MOVE_TEAM_ROLES) and team != principal.team:
        raise AccessDenied("A team manager allocates children into their own team only.")
    with write_connection(engine) as conn:
        row = conn.execute(select(C.c.team, C.c.version).where(C.c.id == child_id)).first()
        if row is None:
            raise NotFound(f"There is no child {child_id}.")
        if row.team != UNALLOCATED_TEAM:
            raise AlreadyAllocated("This child has been allocated to a team already.")
        require_team(conn, team)
        _check_social_worker(conn, social_worker_id, team)
        result = conn.execute(
            update(C)
            .where(
                and_(
                    C.c.id == child_id,
                    C.c.version == expected_version,
                    C.c.team == UNALLOCATED_TEAM,
                )
            )
            .values(
                team=team,
                allocated_social_worker_id=social_worker_id,
                version=C.c.version + 1,
                updated_at=now_utc(),
            )
        )
        if result.rowcount != 1:
            raise StaleVersion(
                "The child's record has changed since you loaded it; reload and try again.",
                current_version=row.version,
            )
        moved = move_open_deadlines(conn, child_id, social_worker_id)
        audit.record(
            conn,
            actor_id=principal.user_id,
            action="child_allocated",
            entity="child",
            entity_id=child_id,
            details={
                "changes": audit.changes(
                    {"team": UNALLOCATED_TEAM, "allocated_social_worker_id": None},
                    {"team": team, "allocated_social_worker_id": social_worker_id},
                ),
                "version": {"before": row.version, "after": row.version + 1},
                "deadlines_reallocated": moved,
            },
        )
