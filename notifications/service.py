"""Reading and answering notices: the in-app inbox, escalations and the breach register.

Access: the inbox is each user's own. Escalations and breaches are for managers: a team
manager sees their team's children; service managers and the service director see all.
An escalation may be acknowledged by its recipient or by anyone more senior on the ladder
(team manager < service manager < service director); the acknowledgement goes to the
append-only audit log in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, case, exists, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from notifications.dispatcher import (
    notice_columns,
    notice_context,
    notice_joins,
    notice_meeting_names,
    notice_meetings,
    notice_template,
)
from notifications.meetings import row_names
from notifications.models import NOTICES as N
from notifications.models import RAISED as R
from notifications.policy import SENIORITY, may_acknowledge
from notifications.render import render
from services import audit
from services.access import Principal
from services.clock import now_utc, today
from services.db import read_connection, write_connection
from services.deadlines import breach_condition, met_late, missed_open
from services.drift_snapshot import COUNTS, newest_snapshot, refresh_drift_snapshot
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from services.models import USERS as U
from services.users import person_name
from states.deadline_kinds import PANEL_ESCALATION
from states.roles import PANEL_CHAIR, SERVICE_DIRECTOR, SERVICE_MANAGER, TEAM_MANAGER
from workflow.calendar import working_days_between
from workflow.errors import EngineError, InvalidData

MANAGER_ROLES = (TEAM_MANAGER, SERVICE_MANAGER, SERVICE_DIRECTOR)
BREACH_ROLES = (*MANAGER_ROLES, PANEL_CHAIR)


class NoticeNotFound(EngineError):
    status_code = 404
    code = "not_found"


class NotAllowed(EngineError):
    status_code = 403
    code = "forbidden"


class AlreadyAcknowledged(EngineError):
    status_code = 409
    code = "already_acknowledged"


def _team_filter(principal: Principal, roles: tuple[str, ...]) -> frozenset[str] | None:
    """The teams a manager's view is limited to (None = all), or 403.

    Which children's deadlines a manager sees is the service's one team-scoping rule
    (:meth:`Principal.visible_teams`); this only adds the role gate.
    """
    if principal.roles.isdisjoint(roles):
        raise NotAllowed(f"This needs one of the roles: {', '.join(roles)}.")
    teams = principal.visible_teams()
    if teams is not None and not teams:
        raise NotAllowed("A team manager needs a team to see its escalations.")
    return teams


def _meeting_fields(r: Any, held: dict[int, date]) -> dict[str, Any]:
    """The panel meeting a child-less deadline belongs to (None for a child's deadline)."""
    return {
        "meeting_id": r.meeting_id,
        "meeting_date": held.get(r.meeting_id) if r.reference is None else None,
    }


# -- inbox --------------------------------------------------------------------------------


def _inbox_rows() -> Any:
    """The notices with what their messages name, as the inbox lists them (to narrow)."""
    return select(
        N.c.id,
        N.c.deadline_id,
        N.c.created_at,
        N.c.read_at,
        N.c.acknowledged_at,
        N.c.child_id,
        *notice_columns(),
    ).select_from(notice_joins(N))


def inbox(
    engine: Engine,
    principal: Principal,
    base_url: str,
    *,
    unread_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The signed-in user's notices, newest first: reminders and escalations of deadlines
    (a child's, or a panel meeting's own) and event notices (``notify``)."""
    query = (
        _inbox_rows()
        .where(N.c.recipient_id == principal.user_id)
        .order_by(N.c.created_at.desc(), N.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if unread_only:
        query = query.where(N.c.read_at.is_(None))
    with read_connection(engine) as conn:
        rows = conn.execute(query).all()
        out = _listed(conn, rows, base_url)
    _audit_inbox(engine, principal, rows)
    return out


def _audit_inbox(engine: Engine, principal: Principal, rows: Sequence[Any]) -> None:
    """The inbox names children (their references, their journeys' deadlines): one read row
    with the children of the notices listed (a panel meeting's own notices name none)."""
    audit.audit_read(
        engine, principal, "notifications", (r.child_id for r in rows if r.child_id is not None)
    )


def _listed(conn: Any, rows: Sequence[Any], base_url: str) -> list[dict[str, Any]]:
    held = notice_meetings(conn, rows)
    names = notice_meeting_names(conn, rows)
    out = []
    for r in rows:
        values = notice_context(r, base_url, held.get(r.meeting_id), names.get(r.meeting_id))
        out.append(
            {
                "id": r.id,
                "category": r.category,
                "step": r.step,
                "message": render(notice_template(r, "inbox", values), values).strip(),
                "deadline_id": r.deadline_id,
                "deadline_kind": r.deadline_kind,
                "due_on": r.due_on,
                "fire_on": r.fire_on,
                "journey_id": r.journey_id,
                "journey_type": r.journey_type,
                "child_reference": r.reference,
                "meeting_id": r.meeting_id,
                "link": values["link"],
                "created_at": r.created_at,
                "read_at": r.read_at,
                "acknowledged_at": r.acknowledged_at,
            }
        )
    return out


# A deadline's notices are one line in the inbox: the reminders, the overdue notice and the
# escalations of one deadline say the same thing louder each time. An event notice (no
# deadline) is a line of its own.
_GROUP = func.coalesce(N.c.deadline_id, -N.c.id)


def grouped_inbox(
    engine: Engine,
    principal: Principal,
    base_url: str,
    *,
    unread_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The user's inbox with one line per deadline: its latest step (the step that fell due
    last), with ``earlier`` (how many notices of it came before) and ``unread`` (how many
    of the deadline's notices are unread). Newest line first."""
    ranked = (
        select(
            N.c.id,
            _GROUP.label("grp"),
            func.row_number()
            .over(partition_by=_GROUP, order_by=(N.c.fire_on.desc(), N.c.id.desc()))
            .label("rank"),
            func.count().over(partition_by=_GROUP).label("notices"),
            func.sum(case((N.c.read_at.is_(None), 1), else_=0))
            .over(partition_by=_GROUP)
            .label("unread"),
            func.max(N.c.created_at).over(partition_by=_GROUP).label("newest"),
        )
        .where(N.c.recipient_id == principal.user_id)
        .subquery()
    )
    lines = select(ranked).where(ranked.c.rank == 1)
    if unread_only:
        lines = lines.where(ranked.c.unread > 0)
    lines = lines.order_by(ranked.c.newest.desc(), ranked.c.id.desc()).limit(limit).offset(offset)
    with read_connection(engine) as conn:
        chosen = conn.execute(lines).all()
        if not chosen:
            return []
        rows = conn.execute(_inbox_rows().where(N.c.id.in_([c.id for c in chosen]))).all()
        by_id = {row["id"]: row for row in _listed(conn, rows, base_url)}
    _audit_inbox(engine, principal, rows)
    out = []
    for line in chosen:
        row = by_id[line.id]
        row["earlier"] = int(line.notices) - 1
        row["unread"] = int(line.unread)
        out.append(row)
    return out


def mark_line_read(engine: Engine, notice_id: int, principal: Principal) -> datetime:
    """Mark a line of the grouped inbox read: ``notice_id`` and every other notice of its
    deadline sent to the user (404 for anyone else's notice)."""
    with write_connection(engine) as conn:
        row = conn.execute(
            select(N.c.recipient_id, N.c.deadline_id).where(N.c.id == notice_id)
        ).one_or_none()
        if row is None or row.recipient_id != principal.user_id:
            raise NoticeNotFound(f"There is no notification {notice_id} for you.")
        same = N.c.id == notice_id
        if row.deadline_id is not None:
            same = or_(same, N.c.deadline_id == row.deadline_id)
        stamp = now_utc()
        conn.execute(
            update(N)
            .where(and_(N.c.recipient_id == principal.user_id, same, N.c.read_at.is_(None)))
            .values(read_at=stamp)
        )
        return stamp


def mark_read(engine: Engine, notice_id: int, principal: Principal) -> datetime:
    """Mark one of the user's own notices read (idempotent); 404 for anyone else's."""
    with write_connection(engine) as conn:
        row = conn.execute(
            select(N.c.recipient_id, N.c.read_at).where(N.c.id == notice_id)
        ).one_or_none()
        # Someone else's notice answers 404 like a missing one: its existence is not theirs.
        if row is None or row.recipient_id != principal.user_id:
            raise NoticeNotFound(f"There is no notification {notice_id} for you.")
        if row.read_at is not None:
            read_at: datetime = row.read_at
            return read_at
        stamp = now_utc()
        conn.execute(update(N).where(N.c.id == notice_id).values(read_at=stamp))
        return stamp


# -- escalations ----------------------------------------------------------------------------

_N2 = aliased(N)


def _acked_sibling() -> Any:
    """Whether any escalation of the same deadline and due date has been acknowledged."""
    return exists().where(
        and_(
            _N2.c.deadline_id == N.c.deadline_id,
            _N2.c.due_on == N.c.due_on,
            _N2.c.category == "escalation",
            _N2.c.acknowledged_at.is_not(None),
        )
    )


def escalation_status(row: Any) -> str:
    """open, acknowledged, or resolved (the deadline was met, cancelled or moved)."""
    if row.acknowledged_at is not None or row.sibling_acked:
        return "acknowledged"
    if row.deadline_status != "open" or row.deadline_due_on != row.due_on:
        return "resolved"
    return "open"


def list_escalations(
    engine: Engine,
    principal: Principal,
    *,
    status: str = "open",
    as_of: date,
    notice_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
    deadline_ids: Collection[int] | None = None,
    of_notices: Collection[int] | None = None,
) -> list[dict[str, Any]]:
    """Escalations the principal may see, oldest first, filtered by status ('all' for all).

    ``deadline_ids`` narrows them to those deadlines' escalations (a page of the director's
    list, :func:`open_escalation_keys`); ``of_notices`` to the deadlines these notices
    escalate (every rung of each, as an acknowledgement answers them all)."""
    teams = _team_filter(principal, MANAGER_ROLES)
    recipient = aliased(U)
    acker = aliased(U)
    raiser = aliased(U)
    query = (
        select(
            N.c.id,
            N.c.step,
            N.c.deadline_id,
            N.c.deadline_kind,
            D.c.ref.label("deadline_ref"),
            N.c.due_on,
            N.c.fire_on,
            N.c.journey_id,
            N.c.created_at,
            N.c.acknowledged_at,
            N.c.ack_comment,
            N.c.recipient_id,
            N.c.child_id,
            person_name(recipient).label("recipient"),
            person_name(acker).label("acknowledged_by"),
            D.c.status.label("deadline_status"),
            D.c.due_on.label("deadline_due_on"),
            D.c.met_on,
            D.c.meeting_id,
            J.c.type.label("journey_type"),
            C.c.reference,
            C.c.team,
            R.c.reason.label("raised_reason"),
            R.c.panel.label("raised_by_panel"),
            person_name(raiser).label("raised_by"),
            _acked_sibling().label("sibling_acked"),
        )
        .select_from(
            # Outer: a panel meeting's own deadline has no journey or child (nor team, so a
            # team manager's filter below leaves it to service managers and the director);
            # only a raised escalation (the panel's) has a reason.
            N.join(D, D.c.id == N.c.deadline_id)
            .outerjoin(J, J.c.id == N.c.journey_id)
            .outerjoin(C, C.c.id == N.c.child_id)
            .join(recipient, recipient.c.id == N.c.recipient_id)
            .outerjoin(acker, acker.c.id == N.c.acknowledged_by_id)
            .outerjoin(R, R.c.deadline_id == N.c.deadline_id)
            .outerjoin(raiser, raiser.c.id == R.c.raised_by_id)
        )
        .where(N.c.category == "escalation")
        .order_by(N.c.fire_on, N.c.id)
    )
    if teams is not None:
        query = query.where(C.c.team.in_(sorted(teams)))
    if notice_id is not None:
        query = query.where(N.c.id == notice_id)
    if deadline_ids is not None:
        query = query.where(N.c.deadline_id.in_(sorted(set(deadline_ids))))
    if of_notices is not None:
        query = query.where(
            N.c.deadline_id.in_(select(N.c.deadline_id).where(N.c.id.in_(sorted(set(of_notices)))))
        )
    # The status in SQL (escalation_status's three cases), so the page is cut in SQL and
    # only its rows are read, however many escalations there are (issue 12, item 4).
    acked = or_(N.c.acknowledged_at.is_not(None), _acked_sibling())
    current = and_(D.c.status == "open", D.c.due_on == N.c.due_on)
    if status == "open":
        query = query.where(and_(N.c.acknowledged_at.is_(None), current, ~_acked_sibling()))
    elif status == "acknowledged":
        query = query.where(acked)
    elif status == "resolved":
        query = query.where(and_(N.c.acknowledged_at.is_(None), ~_acked_sibling(), ~current))
    elif status != "all":
        return []
    with read_connection(engine) as conn:
        rows = conn.execute(query.limit(limit).offset(offset)).all()
        held = notice_meetings(conn, rows)
        labels = row_names(conn, ((r.deadline_kind, r.deadline_ref, r.meeting_id) for r in rows))
    out = []
    children: list[int | None] = []
    for r, label in zip(rows, labels, strict=True):
        state = escalation_status(r)
        children.append(r.child_id)
        out.append(
            {
                "id": r.id,
                "status": state,
                "level": r.step.removeprefix("escalate_"),
                "step": r.step,
                "recipient_id": r.recipient_id,
                "recipient": r.recipient,
                "deadline_id": r.deadline_id,
                "deadline_kind": r.deadline_kind,
                "deadline_label": label,
                "due_on": r.due_on,
                "escalated_on": r.fire_on,
                "working_days_overdue": max(0, working_days_between(r.due_on, as_of))
                if state == "open"
                else None,
                "journey_id": r.journey_id,
                "journey_type": r.journey_type,
                "child_reference": r.reference,
                "team": r.team,
                **_meeting_fields(r, held),
                "acknowledged_at": r.acknowledged_at,
                "acknowledged_by": r.acknowledged_by,
                "comment": r.ack_comment,
                # A raised escalation (the panel's): why, by whom; None for a missed deadline.
                "reason": r.raised_reason,
                "raised_by": r.raised_by,
                "panel": r.raised_by_panel,
            }
        )
    audit.audit_read(
        engine,
        principal,
        "escalations",
        (c for c in children if c is not None),
    )
    return out


def _open_escalation(query: Any) -> Any:
    """Narrow a query over notices joined to their deadline (:func:`_notice_deadline`) to
    the open escalations: the SQL form of :func:`escalation_status` == "open" (not
    acknowledged, at no rung of the same deadline and due date, and the deadline still open
    for that due date)."""
    return query.where(
        and_(
            N.c.category == "escalation",
            N.c.acknowledged_at.is_(None),
            D.c.status == "open",
            ~_acked_sibling(),
        )
    )


def _notice_deadline() -> Any:
    """Notices joined to their deadline as it stands for the notice's due date.

    ``due_on <= and >=`` is ``due_on =`` (either NULL fails both), written so for
    PostgreSQL's planner: it multiplies an equality's selectivity (one in the due dates'
    distinct values) with the key's, expected 4 rows of 134,000 at national size, and so
    hashed a scan of all 7.7 million deadlines instead of walking the open escalations'
    index and stopping after a page; two inequalities it prices at a third each, and walks
    (issue 12, item 4)."""
    return N.join(
        D,
        and_(D.c.id == N.c.deadline_id, D.c.due_on <= N.c.due_on, D.c.due_on >= N.c.due_on),
    )


def _escalation_groups(
    teams: frozenset[str] | None, team: str | None = None, journey_type: str | None = None
) -> Any:
    """The open escalated deadlines, one row per deadline and due date as
    :func:`notifications.escalation_groups.group_escalations` makes them: journey type,
    team, and ``top``, the rank of the highest rung reached. Grouped in the order of the
    partial index ``ix_notice_open_escalation`` (due date, deadline), the list's order.

    ``team`` and ``journey_type`` keep one team's or type's groups, filtered before the
    grouping (a group's notices share one deadline, so one child and journey): a filter on
    the grouped rows would be estimated at a few rows and walk nothing."""
    groups = _open_escalation(
        select(
            N.c.deadline_id,
            N.c.due_on,
            func.min(J.c.type).label("journey_type"),
            func.min(C.c.team).label("team"),
            _seniority().label("top"),
        ).select_from(
            _notice_deadline()
            .outerjoin(J, J.c.id == N.c.journey_id)
            .outerjoin(C, C.c.id == N.c.child_id)
        )
    ).group_by(N.c.due_on, N.c.deadline_id)
    return _narrowed(groups, teams, team, journey_type)


def _narrowed(
    query: Any, teams: frozenset[str] | None, team: str | None, journey_type: str | None
) -> Any:
    """``query`` (joined to the child and the journey) kept to the reader's ``teams`` and
    the page's ``team`` and ``journey_type`` filters."""
    if teams is not None:
        query = query.where(C.c.team.in_(sorted(teams)))
    if team is not None:
        query = query.where(C.c.team == team)
    if journey_type is not None:
        query = query.where(J.c.type == journey_type)
    return query


def _seniority() -> Any:
    """The rank of the highest rung among a group's notices (0: none of the ladder's)."""
    return func.max(
        case(*((N.c.step == f"escalate_{lvl}", rank) for lvl, rank in SENIORITY.items()), else_=0)
    )


def _top_rung_groups(
    teams: frozenset[str] | None, team: str | None, journey_type: str | None, rank: int
) -> Any:
    """The open escalated deadlines whose highest rung has this ``rank``, as
    :func:`_escalation_groups` makes them and in its order, for the level filter.

    Grouped first, from the partial index ``ix_notice_open_escalation`` alone (due date,
    deadline, step: an index-only walk, migration 0035), and only the groups whose highest
    rung is the level are joined to their deadline, journey and child and checked open.
    The same groups as :func:`_escalation_groups` filtered on ``top``: a group's notices
    share its deadline (so its journey and child, which the notices copy), an
    acknowledged notice of the group takes the whole group off the list, and so the
    unacknowledged notices are all of a listed group's. Filtering the grouped rows after
    the joins walked every open escalation at national size (0.9 s for a level whose
    groups are the newest, issue 12, item 4). ``top >= rank AND top <= rank`` is ``top =
    rank``, written so for PostgreSQL's planner: an equality on an aggregate it estimates
    at one group in 200, too few for the page's limit to make the walk worth it."""
    top = _seniority()
    grouped = (
        select(N.c.due_on, N.c.deadline_id)
        .where(N.c.category == "escalation", N.c.acknowledged_at.is_(None))
        .group_by(N.c.due_on, N.c.deadline_id)
        .having(and_(top >= rank, top - rank <= 0))
        .subquery("top_groups")
    )
    acked = aliased(N)
    query = (
        select(grouped.c.deadline_id, grouped.c.due_on)
        .select_from(
            grouped.join(
                D,
                and_(
                    D.c.id == grouped.c.deadline_id,
                    D.c.due_on <= grouped.c.due_on,
                    D.c.due_on >= grouped.c.due_on,
                ),
            )
            .outerjoin(J, J.c.id == D.c.journey_id)
            .outerjoin(C, C.c.id == D.c.child_id)
        )
        .where(
            D.c.status == "open",
            ~exists().where(
                acked.c.deadline_id == grouped.c.deadline_id,
                acked.c.due_on == grouped.c.due_on,
                acked.c.category == "escalation",
                acked.c.acknowledged_at.is_not(None),
            ),
        )
    )
    return _narrowed(query, teams, team, journey_type).order_by(
        grouped.c.due_on, grouped.c.deadline_id
    )


def escalation_group_counts(conn: Any) -> list[dict[str, Any]]:
    """How many open escalated deadlines there are by team, journey type and highest rung
    (``m``, its rank): the director's snapshot's ``escalation`` rows, counted by the
    scheduler after each sweep so the page need not group every open escalation."""
    g = _escalation_groups(None).subquery("open_groups")
    return [
        {"team": r.team, "journey_type": r.journey_type, "m": int(r.top), "n": int(r.n)}
        for r in conn.execute(
            select(g.c.team, g.c.journey_type, g.c.top, func.count().label("n")).group_by(
                g.c.team, g.c.journey_type, g.c.top
            )
        )
    ]


def refresh_director_snapshot(engine: Engine, as_of: date) -> int:
    """The scheduler's refresh of the director's snapshot: the figures and the open
    escalations' counts (:func:`services.drift_snapshot.refresh_drift_snapshot`)."""
    return refresh_drift_snapshot(engine, as_of, escalations=escalation_group_counts)


def _counted_groups(
    conn: Any, teams: frozenset[str] | None, as_of: date
) -> tuple[datetime, list[tuple[str | None, str | None, int, int]]] | None:
    """When the newest snapshot was computed and its open escalation counts the reader's
    teams see (team, journey type, top rank, how many), if it counted them for ``as_of``;
    None otherwise."""
    snap = newest_snapshot(conn)
    if snap is None or snap.as_of != as_of or not snap.escalations_counted:
        return None
    query = select(COUNTS.c.team, COUNTS.c.journey_type, COUNTS.c.m, COUNTS.c.n).where(
        COUNTS.c.snapshot_id == snap.id, COUNTS.c.figure == "escalation"
    )
    if teams is not None:
        query = query.where(COUNTS.c.team.in_(sorted(teams)))
    return snap.computed_at, [
        (r.team, r.journey_type, int(r.m), int(r.n)) for r in conn.execute(query)
    ]


@dataclass(frozen=True)
class EscalationKeys:
    """A page of the open escalated deadlines: how many the user sees, how many the filters
    leave, and this page's (deadline id, due date) in the list's order (due date first).
    ``counted_at``: when the counts are the snapshot's (None: counted now)."""

    total: int
    shown: int
    keys: list[tuple[int, date]]
    page: int
    pages: int
    counted_at: datetime | None = None


def open_escalation_keys(
    engine: Engine,
    principal: Principal,
    *,
    team: str | None = None,
    journey_type: str | None = None,
    level: str | None = None,
    page: int = 1,
    per_page: int = 25,
    as_of: date | None = None,
) -> EscalationKeys:
    """The open escalated deadlines, counted and paged in SQL: one group per deadline and
    due date, as :func:`notifications.escalation_groups.group_escalations` makes them, so a
    page reads only its own 25 groups' rows, however many are open (issue 12, item 4).
    ``level`` keeps the groups whose highest rung is that level (an unknown level: none).

    With ``as_of``, the counts are the director's snapshot's when it counted them for that
    day (:func:`refresh_director_snapshot`; grouping every open escalation cost seconds at
    national size); the page's groups are always read now, by an index walk that stops
    after them, and one more says whether a next page exists."""
    teams = _team_filter(principal, MANAGER_ROLES)
    g = _escalation_groups(teams).subquery("open_groups")
    rank = SENIORITY.get(level, -1) if level is not None else None
    wanted: list[Any] = []
    if team is not None:
        wanted.append(g.c.team == team)
    if journey_type is not None:
        wanted.append(g.c.journey_type == journey_type)
    if rank is not None:
        wanted.append(g.c.top == rank)
    counted_at: datetime | None = None
    with read_connection(engine) as conn:
        counted = _counted_groups(conn, teams, as_of) if as_of is not None else None
        if counted is not None:
            counted_at, rows = counted
            total = sum(n for *_, n in rows)
            shown = sum(
                n
                for row_team, row_type, top, n in rows
                if (team is None or row_team == team)
                and (journey_type is None or row_type == journey_type)
                and (rank is None or top == rank)
            )
        else:
            shown_case = case((and_(*wanted), 1), else_=0) if wanted else literal(1)
            total, shown = conn.execute(
                select(func.count(), func.coalesce(func.sum(shown_case), 0)).select_from(g)
            ).one()
        pages = max(1, -(-int(shown) // per_page))
        if rank is None:
            page_groups = _escalation_groups(teams, team, journey_type).subquery("page_groups")
            page_query = (
                select(page_groups.c.deadline_id, page_groups.c.due_on)
                .order_by(page_groups.c.due_on, page_groups.c.deadline_id)
                .limit(per_page + 1)
            )
        else:
            # The level filter: grouped on the notices' index before any join.
            page_query = _top_rung_groups(teams, team, journey_type, rank).limit(per_page + 1)

        def walk(number: int) -> list[tuple[int, date]]:
            offset = (number - 1) * per_page
            return [(r.deadline_id, r.due_on) for r in conn.execute(page_query.offset(offset))]

        # Counted now, a page past the last is the last. The snapshot's counts may lag the
        # list (escalated or answered since): a page past them is walked first, and only
        # one that holds nothing falls back to their last.
        page = max(page, 1) if counted is not None else min(max(page, 1), pages)
        keys = walk(page)
        if not keys and page > pages:
            page = pages
            keys = walk(page)
    # One more than the page: a next page, whatever the (snapshot's) counts say.
    pages = max(pages, page + 1 if len(keys) > per_page else page)
    return EscalationKeys(int(total), int(shown), keys[:per_page], page, pages, counted_at)


def acknowledge(engine: Engine, notice_id: int, principal: Principal, comment: str) -> None:
    """Acknowledge an escalation with a comment: its recipient or someone more senior.

    The other escalations of the same missed date (the rungs below a director's, say) are
    answered by it: they are marked acknowledged with the same who, when and comment."""
    acknowledge_all(engine, [notice_id], principal, comment)


def acknowledge_all(
    engine: Engine, notice_ids: Sequence[int], principal: Principal, comment: str
) -> None:
    """Acknowledge several escalations with one comment, in one transaction: all of them,
    or (if any is refused or already answered) none."""
    comment = comment.strip()
    if not comment:
        raise InvalidData(
            "Enter a comment saying what has been done or will be done.",
            errors=["comment is empty"],
        )
    with write_connection(engine) as conn:
        for notice_id in dict.fromkeys(notice_ids):
            _acknowledge(conn, notice_id, principal, comment)


def _acknowledge(conn: Any, notice_id: int, principal: Principal, comment: str) -> None:
    row = conn.execute(
        select(
            N.c.id,
            N.c.category,
            N.c.step,
            N.c.recipient_id,
            N.c.deadline_id,
            N.c.due_on,
            N.c.deadline_kind,
            N.c.acknowledged_at,
        ).where(N.c.id == notice_id)
    ).one_or_none()
    if row is None or row.category != "escalation":
        raise NoticeNotFound(f"There is no escalation {notice_id}.")
    level = row.step.removeprefix("escalate_")
    if not may_acknowledge(principal.roles, principal.user_id, row.recipient_id, level):
        raise NotAllowed(
            "Only the person it was escalated to, or a more senior manager, "
            "may acknowledge this escalation."
        )
    if row.acknowledged_at is not None:
        raise AlreadyAcknowledged(f"Escalation {notice_id} has already been acknowledged.")
    stamp = now_utc()
    done = conn.execute(
        update(N)
        .where(and_(N.c.id == notice_id, N.c.acknowledged_at.is_(None)))
        .values(
            acknowledged_at=stamp,
            acknowledged_by_id=principal.user_id,
            ack_comment=comment,
            read_at=stamp,
        )
    )
    if done.rowcount != 1:
        raise AlreadyAcknowledged(f"Escalation {notice_id} has already been acknowledged.")
    siblings = conn.execute(
        update(N)
        .where(
            and_(
                N.c.category == "escalation",
                N.c.deadline_id == row.deadline_id,
                N.c.due_on == row.due_on,
                N.c.id != notice_id,
                N.c.acknowledged_at.is_(None),
            )
        )
        .values(
            acknowledged_at=stamp,
            acknowledged_by_id=principal.user_id,
            ack_comment=comment,
            read_at=func.coalesce(N.c.read_at, stamp),
        )
        .returning(N.c.id)
    ).all()
    if row.deadline_kind == PANEL_ESCALATION.key:
        # A raised escalation asks for an answer, and this is it: its deadline is met,
        # so it leaves the breach register (services.deadlines) as well as the list.
        conn.execute(
            update(D)
            .where(and_(D.c.id == row.deadline_id, D.c.status == "open"))
            .values(status="met", met_on=today(), updated_at=stamp)
        )
    audit.record(
        conn,
        actor_id=principal.user_id,
        action="acknowledge_escalation",
        entity="notice",
        entity_id=notice_id,
        details={
            "deadline_id": row.deadline_id,
            "step": row.step,
            "due_on": row.due_on.isoformat(),
            "recipient_id": row.recipient_id,
            # The comment itself stays on the notice: free text may name a child, and
            # the audit trail never does.
            "comment_chars": len(comment),
            "also_acknowledged": sorted(r.id for r in siblings),
        },
    )


# -- breach register ------------------------------------------------------------------------


def breaches(
    engine: Engine,
    principal: Principal,
    *,
    as_of: date,
    team: str | None = None,
    status: str = "all",
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Every deadline missed: still open past its date, or met after it."""
    teams = _team_filter(principal, BREACH_ROLES)
    condition = {"open": missed_open(as_of), "met_late": met_late()}.get(
        status, breach_condition(as_of)
    )
    query = (
        select(
            D.c.id,
            D.c.journey_id,
            D.c.kind,
            D.c.ref,
            D.c.due_on,
            D.c.status,
            D.c.met_on,
            D.c.owner_id,
            D.c.owner_role,
            D.c.meeting_id,
            D.c.child_id,
            J.c.type.label("journey_type"),
            C.c.reference,
            C.c.team,
            person_name(U).label("owner"),
            R.c.reason,
        )
        .select_from(
            # Outer: a panel meeting's minutes can be missed too, and have no child; only a
            # raised escalation (the panel's) has a reason.
            D.outerjoin(J, J.c.id == D.c.journey_id)
            .outerjoin(C, C.c.id == D.c.child_id)
            .outerjoin(U, U.c.id == D.c.owner_id)
            .outerjoin(R, R.c.deadline_id == D.c.id)
        )
        .where(condition)
        .order_by(D.c.due_on, D.c.id)
        .limit(limit)
        .offset(offset)
    )
    if teams is not None:
        query = query.where(C.c.team.in_(sorted(teams)))
    if team:
        query = query.where(C.c.team == team)
    recipient = aliased(U)
    acker = aliased(U)
    with read_connection(engine) as conn:
        rows = conn.execute(query).all()
        held = notice_meetings(conn, rows)
        labels = row_names(conn, ((r.kind, r.ref, r.meeting_id) for r in rows))
        escalations: dict[int, list[dict[str, Any]]] = defaultdict(list)
        ids = [r.id for r in rows]
        if ids:
            for e in conn.execute(
                select(
                    N.c.id,
                    N.c.deadline_id,
                    N.c.step,
                    N.c.due_on,
                    N.c.fire_on,
                    N.c.acknowledged_at,
                    N.c.ack_comment,
                    person_name(recipient).label("recipient"),
                    person_name(acker).label("acknowledged_by"),
                )
                .select_from(
                    N.join(recipient, recipient.c.id == N.c.recipient_id).outerjoin(
                        acker, acker.c.id == N.c.acknowledged_by_id
                    )
                )
                .where(and_(N.c.deadline_id.in_(ids), N.c.category == "escalation"))
                .order_by(N.c.fire_on, N.c.id)
            ):
                escalations[e.deadline_id].append(
                    {
                        "id": e.id,
                        "level": e.step.removeprefix("escalate_"),
                        "recipient": e.recipient,
                        "escalated_on": e.fire_on,
                        "for_due_on": e.due_on,
                        "acknowledged_at": e.acknowledged_at,
                        "acknowledged_by": e.acknowledged_by,
                        "comment": e.ack_comment,
                    }
                )
    out = []
    for r, label in zip(rows, labels, strict=True):
        until = r.met_on if r.status == "met" else as_of
        out.append(
            {
                "deadline_id": r.id,
                "journey_id": r.journey_id,
                "journey_type": r.journey_type,
                "child_reference": r.reference,
                "team": r.team,
                **_meeting_fields(r, held),
                "kind": r.kind,
                "ref": r.ref,
                "deadline_label": label,
                "due_on": r.due_on,
                "status": "met_late" if r.status == "met" else "open",
                "met_on": r.met_on,
                # An unowned deadline (a meeting's minutes) is owned by its role.
                "owner": r.owner or r.owner_role,
                "days_late": (until - r.due_on).days,
                "working_days_late": working_days_between(r.due_on, until),
                "escalations": escalations.get(r.id, []),
                "reason": r.reason,
            }
        )
    audit.audit_read(
        engine, principal, "breaches", (r.child_id for r in rows if r.child_id is not None)
    )
    return out
