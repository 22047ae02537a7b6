"""Deadlines across the children a user may see, and the rule for a missed one."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, literal, or_, select

from services import audit
from services.access import Principal
from services.db import read_connection
from services.journeys import AccessDenied
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from services.models import USERS as U
from services.users import person_name
from states.deadline_kinds import PANEL_ESCALATION

DEADLINE_STATUSES = ("open", "met", "cancelled")


def missed_open(as_of: date) -> ColumnElement[bool]:
    """A deadline still open after its due date, as of ``as_of``; a panel escalation from
    the day it is raised (the panel has already found the drift) until it is answered."""
    raised = and_(D.c.kind == PANEL_ESCALATION.key, D.c.due_on <= as_of)
    # ``due_on <= as_of`` follows from the rest; said outright it is a range the index on
    # (status, due_on) can serve, which the OR alone is not (issue 12, item 4).
    return and_(D.c.status == "open", D.c.due_on <= as_of, or_(D.c.due_on < as_of, raised))


def met_late() -> ColumnElement[bool]:
    """A deadline met after its due date. A panel escalation is met by its acknowledgement,
    which answers it, and so leaves the register then.

    The constants are written into the SQL, not bound: they are the predicate of the
    partial index ``ix_deadline_met_late`` (migration 0019), and a planner matches a
    partial index only against constants it can see."""
    return and_(
        D.c.status == literal("met", literal_execute=True),
        D.c.met_on > D.c.due_on,
        D.c.kind != literal(PANEL_ESCALATION.key, literal_execute=True),
    )


def breach_condition(as_of: date) -> ColumnElement[bool]:
    """A deadline missed on ``as_of``: still open after its due date, or met after it.

    The one breach rule: the breach register (``notifications.service.breaches``) and the
    director's figures (``services.drift``, which counts its two disjoint halves apart so
    each reads its own index) both use it, over the same deadlines: a child's,
    and a panel meeting's own (its minutes), which has no team and so counts only for users
    who see every team.
    """
    return or_(missed_open(as_of), met_late())


def list_deadlines(
    engine: Engine,
    principal: Principal,
    *,
    due_before: date | None = None,
    status: str | None = "open",
    team: str | None = None,
    journey_type: str | None = None,
    owner_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Deadlines with their journey, child reference and owner, soonest first."""
    teams = principal.visible_teams()
    if teams is not None and not teams:
        raise AccessDenied("Your roles give no access to children's records.")
    query = (
        select(
            D.c.id,
            D.c.journey_id,
            J.c.type.label("journey_type"),
            D.c.child_id,
            C.c.reference.label("child_reference"),
            C.c.team,
            D.c.kind,
            D.c.ref,
            D.c.due_on,
            D.c.status,
            D.c.met_on,
            D.c.owner_id,
            person_name(U).label("owner"),
            D.c.owner_role,
        )
        .select_from(
            D.join(J, J.c.id == D.c.journey_id)
            .join(C, C.c.id == D.c.child_id)
            .outerjoin(U, U.c.id == D.c.owner_id)
        )
        .order_by(D.c.due_on, D.c.id)
        .limit(limit)
        .offset(offset)
    )
    if teams is not None:
        query = query.where(C.c.team.in_(teams))
    if team:
        query = query.where(C.c.team == team)
    if journey_type:
        query = query.where(J.c.type == journey_type)
    if status:
        query = query.where(D.c.status == status)
    if due_before:
        query = query.where(D.c.due_on < due_before)
    if owner_id is not None:
        query = query.where(D.c.owner_id == owner_id)
    with read_connection(engine) as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    audit.audit_read(engine, principal, "deadlines", (r["child_id"] for r in rows))
    return rows
