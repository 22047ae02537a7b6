"""Children: record, update, find. Each write is one transaction with its audit entry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from services import audit
from services.access import (
    CHILD_EDIT_ROLES,
    MOVE_TEAM_ROLES,
    REALLOCATE_ROLES,
    Principal,
    child_refusal,
)
from services.clock import now_utc, today
from services.db import insert_id, read_connection, write_connection
from services.journeys import AccessDenied, NotFound
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from services.models import USERS as U
from services.plausible import looked_after_problem
from services.schemas import ChildCreate, ChildUpdate
from services.teams import require_team
from states.roles import SOCIAL_WORKER
from workflow.errors import EngineError, InvalidData, StaleVersion


class DuplicateReference(EngineError):
    status_code = 409
    code = "duplicate_reference"


def _check_social_worker(conn: Any, user_id: int, team: str) -> None:
    row = conn.execute(select(U.c.roles, U.c.team, U.c.active).where(U.c.id == user_id)).first()
    if row is None or not row.active or SOCIAL_WORKER not in row.roles:
        raise InvalidData(
            "The allocated social worker must be an active user with the social_worker role.",
            errors=[f"allocated_social_worker_id {user_id} is not a social worker"],
        )
    if row.team != team:
        raise InvalidData(
            "The allocated social worker must belong to the child's team.",
            errors=[f"allocated_social_worker_id {user_id} is not in team {team}"],
        )


def create_child(engine: Engine, body: ChildCreate, principal: Principal) -> int:
    """Record a child; a social worker's or team manager's child joins their own team."""
    if principal.roles.isdisjoint(CHILD_EDIT_ROLES):
        raise AccessDenied("Only social workers and managers may record a child.")
    team = body.team or principal.team
    if not team:
        raise InvalidData("The child's team is required.", errors=["team is required"])
    refusal = child_refusal(principal, team, write=True)
    if refusal:
        raise AccessDenied(refusal)
    allocated = body.allocated_social_worker_id
    if allocated is None and SOCIAL_WORKER in principal.roles:
        allocated = principal.user_id
    stamp = now_utc()
    try:
        with write_connection(engine) as conn:
            require_team(conn, team)
            if allocated is not None:
                _check_social_worker(conn, allocated, team)
            child_id = insert_id(
                conn.execute(
                    insert(C).values(
                        **body.model_dump(exclude={"team", "allocated_social_worker_id"}),
                        team=team,
                        allocated_social_worker_id=allocated,
                        version=1,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
            )
            audit.record(
                conn,
                actor_id=principal.user_id,
                action="child_created",
                entity="child",
                entity_id=child_id,
                details={"reference": body.reference, "team": team},
            )
    except IntegrityError as exc:
        raise DuplicateReference(f"A child with reference {body.reference!r} exists.") from exc
    return int(child_id)


def move_open_deadlines(conn: Connection, child_id: int, social_worker_id: int | None) -> int:
    """Open social-worker deadlines follow the case to its new social worker (inside the
    caller's transaction); how many moved."""
    return conn.execute(
        update(D)
        .where(
            and_(
                D.c.child_id == child_id,
                D.c.status == "open",
                D.c.owner_role == SOCIAL_WORKER,
            )
        )
        .values(owner_id=social_worker_id)
    ).rowcount


def update_child(engine: Engine, child_id: int, body: ChildUpdate, principal: Principal) -> None:
    """Change a child's details; a stale ``expected_version`` is refused."""
    changes = body.model_dump(exclude={"expected_version"}, exclude_unset=True)
    with write_connection(engine) as conn:
        # Every field the body may change (a move of team also unallocates), so the audit
        # row can say what it was before; and the date of birth, to check the new dates by.
        wanted = ("team", "version", "date_of_birth", "allocated_social_worker_id")
        columns = [*wanted, *(n for n in changes if n not in wanted)]
        row = conn.execute(select(*(C.c[n] for n in columns)).where(C.c.id == child_id)).first()
        if row is None:
            raise NotFound(f"There is no child {child_id}.")
        refusal = child_refusal(principal, row.team, write=True)
        if refusal or principal.roles.isdisjoint(CHILD_EDIT_ROLES):
            raise AccessDenied(refusal or "Only social workers and managers may edit a child.")
        since = changes.get("looked_after_since")
        problem = since and looked_after_problem(since, row.date_of_birth, today())
        if problem:
            raise InvalidData(
                "The date the child became looked after is not plausible.",
                errors=[f"looked_after_since: {problem}"],
            )
        team = _allocation_changes(conn, principal, changes, row.team)
        allocated = changes.get("allocated_social_worker_id")
        if allocated is not None:
            _check_social_worker(conn, allocated, team)
        result = conn.execute(
            update(C)
            .where(and_(C.c.id == child_id, C.c.version == body.expected_version))
            .values(**changes, version=C.c.version + 1, updated_at=now_utc())
        )
        if result.rowcount != 1:
            raise StaleVersion(
                "The child's record has changed since you loaded it; reload and try again.",
                current_version=row.version,
            )
        if "allocated_social_worker_id" in changes:
            moved = move_open_deadlines(conn, child_id, allocated)
        before = {name: row._mapping[name] for name in changes}
        details: dict[str, Any] = {
            "fields": sorted(changes),
            # Names and dates of birth included: the audit table lives in the database that
            # holds them anyway, and audit details are never logged.
            "changes": audit.changes(before, changes),
            "version": {"before": row.version, "after": row.version + 1},
        }
        if "allocated_social_worker_id" in changes:
            details["deadlines_reallocated"] = moved
        audit.record(
            conn,
            actor_id=principal.user_id,
            action="child_updated",
            entity="child",
            entity_id=child_id,
            details=details,
        )


def _allocation_changes(
    conn: Any, principal: Principal, changes: dict[str, Any], current_team: str
) -> str:
    """Check who may reallocate or move the child; the child's team after the change.

    A move to another team leaves the child unallocated unless the change names one of
    the new team's social workers: the old one no longer belongs to its team.
    """
    team = changes.get("team") or current_team
    if changes.get("team", current_team) in (None, current_team):
        changes.pop("team", None)
    else:
        if principal.roles.isdisjoint(MOVE_TEAM_ROLES):
            raise AccessDenied("Only a service manager may move a child to another team.")
        require_team(conn, team)
        changes.setdefault("allocated_social_worker_id", None)
    if "allocated_social_worker_id" in changes and principal.roles.isdisjoint(REALLOCATE_ROLES):
        raise AccessDenied("Only a team manager or service manager may reallocate a child.")
    return str(team)


def get_child(engine: Engine, child_id: int, principal: Principal) -> dict[str, Any]:
    """A child with a summary of its journeys."""
    with read_connection(engine) as conn:
        row = conn.execute(select(C).where(C.c.id == child_id)).first()
        if row is None:
            raise NotFound(f"There is no child {child_id}.")
        refusal = child_refusal(principal, row.team, write=False)
        if refusal:
            raise AccessDenied(refusal)
        journeys = conn.execute(
            select(J.c.id, J.c.type, J.c.state, J.c.status, J.c.version)
            .where(J.c.child_id == child_id)
            .order_by(J.c.id)
        ).all()
    out = dict(row._mapping)
    out["journeys"] = [dict(j._mapping) for j in journeys]
    audit.audit_read(
        engine,
        principal,
        "child",
        [child_id],
        details={"journey_ids": [int(j.id) for j in journeys]},
    )
    return out


def search_children(
    engine: Engine,
    principal: Principal,
    *,
    team: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Children the principal may see, by team and by reference or name."""
    teams = principal.visible_teams()
    if teams is not None and not teams:
        raise AccessDenied("Your roles give no access to children's records.")
    query = select(C)
    if teams is not None:
        query = query.where(C.c.team.in_(teams))
    if team:
        query = query.where(C.c.team == team)
    if q:
        # % and _ typed by a user are literal characters, not wildcards.
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                func.lower(C.c.reference).like(pattern, escape="\\"),
                func.lower(C.c.given_name).like(pattern, escape="\\"),
                func.lower(C.c.family_name).like(pattern, escape="\\"),
                func.lower(C.c.given_name + " " + C.c.family_name).like(pattern, escape="\\"),
            )
        )
    query = query.order_by(C.c.reference).limit(limit).offset(offset)
    with read_connection(engine) as conn:
        found = [dict(r._mapping) for r in conn.execute(query)]
    # The ids of the children returned, never the search term (it may be a name).
    audit.audit_read(engine, principal, "search", [r["id"] for r in found])
    return found


def children_of_journeys(engine: Engine, journey_ids: Iterable[int]) -> dict[int, int]:
    """Journey id to child id, in one query (the escalation rows carry the journey only)."""
    ids = sorted(set(journey_ids))
    if not ids:
        return {}
    with read_connection(engine) as conn:
        rows = conn.execute(select(J.c.id, J.c.child_id).where(J.c.id.in_(ids)))
        return {int(r.id): int(r.child_id) for r in rows}
