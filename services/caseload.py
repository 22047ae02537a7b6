"""The "My work" caseload: children in scope, their active journeys, next deadline and a
red / amber / green status, overdue first.

Set-based on purpose: a page costs the same handful of queries whether the team has ten
children or a thousand (one for the page of children with their next due date, one for the
totals, one for the page's journeys, one for their open deadlines, and small ones for the
filter choices).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, case, func, select

from services import audit
from services.access import Principal
from services.db import read_connection
from services.deadlines import to_confirm
from services.journeys import AccessDenied
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from services.models import USERS as U
from services.rag import due_soon_limit, rag_status
from states.deadline_kinds import label as deadline_label
from states.roles import SOCIAL_WORKER
from workflow.machines import Registry

PAGE_SIZE = 50


@dataclass(frozen=True)
class NextDeadline:
    """The soonest open deadline of a child or of one journey."""

    kind: str
    label: str
    due_on: date
    journey_id: int | None
    status: str
    # Which deadline: a page names a panel pack by its meeting through it.
    deadline_id: int | None = None


@dataclass(frozen=True)
class JourneyLine:
    """An active journey as a caseload row lists it."""

    id: int
    title: str
    state_label: str
    next_deadline: NextDeadline | None


@dataclass(frozen=True)
class CaseRow:
    """One child of the caseload."""

    child_id: int
    reference: str
    name: str
    team: str
    worker: str | None
    journeys: list[JourneyLine]
    next_deadline: NextDeadline | None

    @property
    def status(self) -> str:
        """The child's status: that of their soonest open deadline."""
        return self.next_deadline.status if self.next_deadline else "grey"


@dataclass(frozen=True)
class Filters:
    """Which children the caseload shows, within the teams the user may see."""

    team: str | None = None  # None: every team the user sees
    worker_id: int | None = None  # only this social worker's children
    unallocated: bool = False  # only children with no allocated social worker


@dataclass(frozen=True)
class Caseload:
    """A page of the caseload with the totals of the whole of it."""

    rows: list[CaseRow]
    total: int
    overdue: int
    due_soon: int
    page: int
    pages: int


@dataclass(frozen=True)
class Worker:
    """A social worker to filter by."""

    id: int
    name: str


def _next_due(today: date, in_scope: Any) -> Any:
    """Each child's soonest open deadline date, and the soonest not yet overdue (children
    with none open have no row). A child with an overdue deadline can also have one due
    soon: the counts say so, as the reminders about it do.

    Only the children ``in_scope`` (a select of child ids) are grouped: the planner cannot
    push the page's filter into a grouped subquery, and grouping every open deadline of
    the authority cost seconds at national scale (issue 12, item 4)."""
    return (
        select(
            D.c.child_id,
            func.min(D.c.due_on).label("next_due"),
            func.min(case((D.c.due_on >= today, D.c.due_on))).label("next_not_overdue"),
        )
        .where(and_(D.c.status == "open", D.c.child_id.in_(in_scope)))
        .group_by(D.c.child_id)
        .subquery("next_due")
    )


def _conditions(principal: Principal, filters: Filters, child: Any = C) -> list[Any]:
    teams = principal.visible_teams()
    if teams is not None and not teams:
        raise AccessDenied("Your roles give no access to children's records.")
    conditions: list[Any] = []
    if teams is not None:
        conditions.append(child.c.team.in_(sorted(teams)))
    if filters.team:
        conditions.append(child.c.team == filters.team)
    if filters.unallocated:
        conditions.append(child.c.allocated_social_worker_id.is_(None))
    elif filters.worker_id is not None:
        conditions.append(child.c.allocated_social_worker_id == filters.worker_id)
    return conditions


def load_caseload(
    engine: Engine,
    registry: Registry,
    principal: Principal,
    filters: Filters,
    *,
    today: date,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Caseload:
    """A page of the children ``principal`` may see (narrowed by ``filters``), soonest next
    deadline first: overdue ones lead because their dates are the earliest; children with
    no open deadline come last, by reference."""
    conditions = _conditions(principal, filters)
    # The same scope over an alias of child, so the grouped subquery stays uncorrelated.
    scope = C.alias("scope")
    nd = _next_due(today, select(scope.c.id).where(*_conditions(principal, filters, scope)))
    source = C.outerjoin(nd, nd.c.child_id == C.c.id)
    soon = due_soon_limit(today)
    totals_query = (
        select(
            func.count(),
            func.coalesce(func.sum(case((nd.c.next_due < today, 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((nd.c.next_not_overdue <= soon, 1), else_=0)),
                0,
            ),
        )
        .select_from(source)
        .where(*conditions)
    )
    page = max(page, 1)
    page_query = (
        select(
            C.c.id,
            C.c.reference,
            C.c.given_name,
            C.c.family_name,
            C.c.team,
            U.c.username.label("worker"),
            U.c.display_name.label("worker_name"),
        )
        .select_from(source.outerjoin(U, U.c.id == C.c.allocated_social_worker_id))
        .where(*conditions)
        .order_by(case((nd.c.next_due.is_(None), 1), else_=0), nd.c.next_due, C.c.reference)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    with read_connection(engine) as conn:
        total, overdue, due_soon = conn.execute(totals_query).one()
        children = conn.execute(page_query).all()
        ids = [c.id for c in children]
        journeys = (
            conn.execute(
                select(J.c.id, J.c.child_id, J.c.type, J.c.state, J.c.definition_version)
                .where(and_(J.c.child_id.in_(ids), J.c.status == "active"))
                .order_by(J.c.child_id, J.c.id)
            ).all()
            if ids
            else []
        )
        deadlines = (
            conn.execute(
                select(D.c.id, D.c.child_id, D.c.journey_id, D.c.kind, D.c.due_on)
                .where(and_(D.c.child_id.in_(ids), D.c.status == "open"))
                .order_by(D.c.due_on, D.c.id)
            ).all()
            if ids
            else []
        )
    first_by_child: dict[int, NextDeadline] = {}
    first_by_journey: dict[int, NextDeadline] = {}
    for d in deadlines:  # soonest first, so the first seen is the next one
        nxt = NextDeadline(
            d.kind,
            deadline_label(d.kind),
            d.due_on,
            d.journey_id,
            rag_status(d.due_on, today),
            deadline_id=d.id,
        )
        first_by_child.setdefault(d.child_id, nxt)
        if d.journey_id is not None:
            first_by_journey.setdefault(d.journey_id, nxt)
    lines: dict[int, list[JourneyLine]] = {}
    for j in journeys:
        definition = registry.get(j.type, j.definition_version).definition
        labels = {s.name: s.label for s in definition.states}
        lines.setdefault(j.child_id, []).append(
            JourneyLine(
                j.id, definition.title, labels.get(j.state, j.state), first_by_journey.get(j.id)
            )
        )
    rows = [
        CaseRow(
            child_id=c.id,
            reference=c.reference,
            name=f"{c.given_name} {c.family_name}",
            team=c.team,
            worker=c.worker_name or c.worker,
            journeys=lines.get(c.id, []),
            next_deadline=first_by_child.get(c.id),
        )
        for c in children
    ]
    pages = max(1, -(-int(total) // page_size))
    # A caseload page shows each child's name, team and deadlines: one row names them all.
    audit.audit_read(engine, principal, "caseload", ids)
    return Caseload(rows, int(total), int(overdue), int(due_soon), page, pages)


@dataclass(frozen=True)
class DeadlineToConfirm:
    """A deadline from before the service waiting for someone to record what happened."""

    deadline_id: int
    child_id: int
    reference: str
    kind: str
    label: str
    due_on: date


@dataclass(frozen=True)
class DeadlinesToConfirm:
    """The caseload's deadlines from before the service: how many, of how many children,
    and the oldest few (each with its child, for the link to its confirmation page)."""

    total: int
    children: int
    oldest: list[DeadlineToConfirm]


DEADLINES_TO_CONFIRM_SHOWN = 10


def deadlines_to_confirm(
    engine: Engine,
    principal: Principal,
    filters: Filters,
    *,
    limit: int = DEADLINES_TO_CONFIRM_SHOWN,
) -> DeadlinesToConfirm:
    """The deadlines from before the service of the caseload's children (the children
    ``principal`` may see, narrowed by ``filters``, as :func:`load_caseload`): the one rule
    is :func:`services.deadlines.to_confirm`. The read names the children shown (audited);
    the counts name none."""
    conditions = [*_conditions(principal, filters), to_confirm()]
    source = D.join(C, C.c.id == D.c.child_id)
    with read_connection(engine) as conn:
        total, children = conn.execute(
            select(func.count(), func.count(func.distinct(D.c.child_id)))
            .select_from(source)
            .where(*conditions)
        ).one()
        rows = conn.execute(
            select(D.c.id, D.c.child_id, C.c.reference, D.c.kind, D.c.due_on)
            .select_from(source)
            .where(*conditions)
            .order_by(D.c.due_on, D.c.id)
            .limit(limit)
        ).all()
    oldest = [
        DeadlineToConfirm(r.id, r.child_id, r.reference, r.kind, deadline_label(r.kind), r.due_on)
        for r in rows
    ]
    audit.audit_read(engine, principal, "deadlines_to_confirm", [d.child_id for d in oldest])
    return DeadlinesToConfirm(int(total), int(children), oldest)


def team_social_workers(engine: Engine, team: str) -> list[Worker]:
    """The active social workers of ``team``, by name (roles are a JSON list, so the role
    is checked here rather than in SQL; a team is tens of users)."""
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(U.c.id, U.c.username, U.c.display_name, U.c.roles)
            .where(and_(U.c.team == team, U.c.active.is_(True)))
            .order_by(U.c.username)
        ).all()
    return [Worker(r.id, r.display_name or r.username) for r in rows if SOCIAL_WORKER in r.roles]


def teams_with_children(engine: Engine, principal: Principal) -> list[str]:
    """The teams that have children, among those ``principal`` sees."""
    teams = principal.visible_teams()
    query = select(C.c.team).distinct().order_by(C.c.team)
    if teams is not None:
        query = query.where(C.c.team.in_(sorted(teams)))
    with read_connection(engine) as conn:
        return [str(t) for t in conn.execute(query).scalars()]
