"""Deadlines across the children a user may see, and the rule for a missed one."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, literal, or_, select, update

from services import audit
from services.access import CHILD_EDIT_ROLES, Principal, child_refusal
from services.clock import now_utc, today
from services.db import read_connection, write_connection
from services.journeys import AccessDenied, NotFound
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from services.models import USERS as U
from services.users import person_name
from states.deadline_kinds import PANEL_ESCALATION
from workflow.errors import EngineError, InvalidData

DEADLINE_STATUSES = ("open", "met", "cancelled")


def judged() -> ColumnElement[bool]:
    """A deadline the service answers for: every deadline but one that fell due before the
    child's record entered the service and is still waiting for someone to say what
    happened (:func:`to_confirm`).

    The rule for imported, back-dated deadlines (issue 13): when the care-record import
    derives a journey from a record years old, the deadlines it opens (or moves) already
    past their due date on the import's day are marked ``before_service``
    (:func:`mark_before_service`). Nobody in the service could have met them and the return
    cannot say whether anyone did (it holds no permanence plan or court date), so while
    they are open they are no breach (register, director's figures, breach cohort, panel
    reports) and get no reminder, overdue notice or escalation (the sweep). Where the return
    itself proves a deadline late, it counts as any other: a review deadline the import met
    with a later review on record is met late (:func:`met_late`), as the return dates both.
    Recording the deadline met (with its date, :func:`confirm_deadline`) closes it and
    judges it by that date; recording it missed makes it an ordinary overdue deadline."""
    return D.c.before_service.is_(False)


def to_confirm() -> ColumnElement[bool]:
    """An open deadline that fell due before the service, waiting for its confirmation."""
    return and_(D.c.status == "open", D.c.before_service.is_(True))


def missed_open(as_of: date) -> ColumnElement[bool]:
    """A deadline still open after its due date, as of ``as_of``; a panel escalation from
    the day it is raised (the panel has already found the drift) until it is answered.
    One still to confirm from the record is not missed (:func:`judged`)."""
    raised = and_(D.c.kind == PANEL_ESCALATION.key, D.c.due_on <= as_of)
    # ``due_on <= as_of`` follows from the rest; said outright it is a range the index on
    # (status, due_on) can serve, which the OR alone is not (issue 12, item 4).
    return and_(
        D.c.status == "open",
        D.c.due_on <= as_of,
        or_(D.c.due_on < as_of, raised),
        judged(),
    )


def before_service(status: str, due_on: date, day: date) -> bool:
    """Whether a deadline the care-record import has just written, with ``status`` and
    ``due_on``, fell due before the child's record entered the service on ``day``: the rule
    :func:`mark_before_service` applies to the rows it touched, for rows not yet written
    (``services.journey_batch``)."""
    return status == "open" and due_on < day


def mark_before_service(conn: Connection, child_id: int, *, since: datetime, day: date) -> int:
    """After the care-record import wrote a child's journeys (in its savepoint): mark
    the open deadlines it opened or moved (changed at or after ``since``) that fell due
    before ``day``, and clear the mark from those it moved to ``day`` or later. The number
    marked."""
    touched = and_(D.c.child_id == child_id, D.c.status == "open", D.c.updated_at >= since)
    conn.execute(
        update(D)
        .where(touched, D.c.due_on >= day, D.c.before_service.is_(True))
        .values(before_service=False)
    )
    return conn.execute(
        update(D)
        .where(touched, D.c.due_on < day, D.c.before_service.is_(False))
        .values(before_service=True)
    ).rowcount


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


class AlreadyConfirmed(EngineError):
    """The deadline is no longer waiting for its confirmation (someone recorded it)."""

    status_code = 409
    code = "already_confirmed"


def deadlines_to_confirm(engine: Engine, child_id: int) -> list[dict[str, Any]]:
    """A child's deadlines that fell due before the service and wait for someone to record
    what happened, oldest first. The caller has checked the child is theirs to see (the
    child page reads it inside its own audited read)."""
    with read_connection(engine) as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                _TO_CONFIRM.where(D.c.child_id == child_id).order_by(D.c.due_on, D.c.id)
            )
        ]


def deadline_to_confirm(engine: Engine, deadline_id: int, principal: Principal) -> dict[str, Any]:
    """One deadline still to confirm, for its page: 404 if there is none (or it was
    recorded already), 403 for a child outside the principal's teams; an audited read."""
    with read_connection(engine) as conn:
        row = conn.execute(_TO_CONFIRM.where(D.c.id == deadline_id)).first()
    if row is None:
        raise NotFound(f"Deadline {deadline_id} is not waiting to be confirmed from the record.")
    refusal = child_refusal(principal, row.team, write=False)
    if refusal:
        raise AccessDenied(refusal)
    audit.audit_read(engine, principal, "deadline_to_confirm", [row.child_id])
    return dict(row._mapping)


_TO_CONFIRM = (
    select(
        D.c.id,
        D.c.journey_id,
        J.c.type.label("journey_type"),
        J.c.started_on.label("journey_started_on"),
        D.c.child_id,
        C.c.reference.label("child_reference"),
        C.c.team,
        D.c.kind,
        D.c.ref,
        D.c.due_on,
    )
    .select_from(D.join(J, J.c.id == D.c.journey_id).join(C, C.c.id == D.c.child_id))
    .where(to_confirm())
)


def confirm_deadline(
    engine: Engine, deadline_id: int, principal: Principal, *, met_on: date | None
) -> dict[str, Any]:
    """Record what happened to a deadline that fell due before the service: met on
    ``met_on`` (then judged by that date: late if after its due date), or missed
    (``met_on`` None: an ordinary overdue deadline from now on, a breach and escalated).
    Only the child's social worker's team and managers may; audited. Returns what was
    recorded: the deadline's id, child, kind, due date, outcome, met_on and status."""
    with write_connection(engine) as conn:
        row = conn.execute(
            select(
                D.c.child_id,
                D.c.due_on,
                D.c.kind,
                D.c.status,
                D.c.before_service,
                C.c.team,
                J.c.started_on,
            )
            .select_from(D.join(C, C.c.id == D.c.child_id).join(J, J.c.id == D.c.journey_id))
            .where(D.c.id == deadline_id)
        ).first()
        if row is None:
            raise NotFound(f"There is no deadline {deadline_id} of a child.")
        refusal = child_refusal(principal, row.team, write=True)
        if refusal or principal.roles.isdisjoint(CHILD_EDIT_ROLES):
            raise AccessDenied(
                refusal or "Only social workers and managers may record a child's deadline."
            )
        if met_on is not None and not row.started_on <= met_on <= today():
            raise InvalidData(
                "The date it was met must be between the journey's start and today.",
                errors=["met_on: must be between the journey's start and today"],
            )
        values: dict[str, Any] = {"before_service": False, "updated_at": now_utc()}
        if met_on is not None:
            values.update(status="met", met_on=met_on)
        changed = conn.execute(
            update(D).where(D.c.id == deadline_id, to_confirm()).values(**values)
        ).rowcount
        if changed != 1:
            raise AlreadyConfirmed(
                "Someone has already recorded what happened to this deadline; nothing was changed."
            )
        audit.record(
            conn,
            actor_id=principal.user_id,
            action="deadline_confirmed",
            entity="deadline",
            entity_id=deadline_id,
            details={
                "child_id": row.child_id,
                "kind": row.kind,
                "due_on": row.due_on,
                "outcome": "met" if met_on is not None else "missed",
                "met_on": met_on,
            },
        )
    return {
        "id": deadline_id,
        "child_id": row.child_id,
        "kind": row.kind,
        "due_on": row.due_on,
        "outcome": "met" if met_on is not None else "missed",
        "met_on": met_on,
        "status": values.get("status", row.status),
    }
