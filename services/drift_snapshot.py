"""The director's figures kept as a snapshot: computed by the scheduler after each sweep,
read by the page in a few milliseconds (issue 12, item 4).

Recomputed on each request, :func:`services.drift.drift_figures` costs 1.6-2 s at national
size (84,000 children, 1 million open deadlines): it counts every open deadline due in the
next four weeks by team and journey type and every breach ever recorded. A summary kept in
the same transaction as each deadline change would touch a shared counter row on every
transition (the hot path, whose p99 must hold) and on every write path that opens, meets,
moves or cancels a deadline or moves a child between teams; and "overdue" changes at
midnight with no write at all. So the figures are a snapshot instead, as of its computing
time, which the page shows; the scheduler refreshes it after every sweep (every 15
minutes by default). The page reads a snapshot only if it was computed for the page's date;
otherwise (no scheduler yet, or the first request of a day before its first sweep) it
computes the figures as before. The lists on the page (open escalations, deadlines due
soon) are always read live.

Each snapshot is written whole in one transaction and older ones deleted in it, so a
reader sees one snapshot or the previous one, and two schedulers refreshing at once leave
the newer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    select,
)
from sqlmodel import Field, SQLModel

from services.access import Principal
from services.clock import now_utc
from services.db import insert_id, read_connection, write_connection
from services.deadlines import judged, met_late, missed_open
from services.drift import (
    DUE_SOON_DAYS,
    Breakdown,
    Cell,
    DriftFigures,
    _teams,
    bucket_by_month,
    drift_figures,
    month_starts,
)
from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from services.models import core_table


class DriftSnapshot(SQLModel, table=True):
    """One computing of the director's figures (migration 0025)."""

    __tablename__: ClassVar[Any] = "drift_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    as_of: date  # the date the figures are for (overdue: due before it)
    computed_at: datetime  # when the figures were read (the page shows it)
    # Whether the open escalations were counted too (``escalation`` rows, migration 0033):
    # they are the notifications' (a floor above), counted by the scheduler's refresh.
    escalations_counted: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default=false()),
    )


class DriftCount(SQLModel, table=True):
    """One count of a snapshot.

    ``figure`` is ``cell`` (open deadlines of a team and journey type due before the
    window ends: ``n`` overdue, ``m`` in all) or ``breach`` (deadlines of a team missed:
    ``status`` open or met, ``month`` the month they fell due within the chart's twelve,
    None before them; ``n`` how many) or ``escalation`` (open escalated deadlines of a team
    and journey type whose highest rung has rank ``m``: ``n`` how many; only in a snapshot
    with ``escalations_counted``). Team is None for a panel meeting's own deadlines."""

    __tablename__: ClassVar[Any] = "drift_count"

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="drift_snapshot.id", index=True)
    figure: str = Field(max_length=10)
    team: str | None = Field(default=None, max_length=50)
    journey_type: str | None = Field(default=None, max_length=50)
    status: str | None = Field(default=None, max_length=10)
    month: date | None = None
    n: int = 0
    m: int = 0


SNAPSHOTS = core_table(DriftSnapshot)
COUNTS = core_table(DriftCount)


def _compute(conn: Any, as_of: date) -> list[dict[str, Any]]:
    """The snapshot's rows for every team: the queries of :func:`drift_figures`, unscoped
    and grouped by team as well."""
    window_end = date.fromordinal(as_of.toordinal() + DUE_SOON_DAYS)
    rows: list[dict[str, Any]] = [
        {"figure": "cell", "team": r.team, "journey_type": r.type, "n": int(r.overdue or 0),
         "m": int(r.total), "status": None, "month": None}
        for r in conn.execute(
            select(
                C.c.team,
                J.c.type,
                func.sum(case((D.c.due_on < as_of, 1), else_=0)).label("overdue"),
                func.count().label("total"),
            )
            .select_from(D.join(J, J.c.id == D.c.journey_id).join(C, C.c.id == D.c.child_id))
            .where(and_(D.c.status == "open", D.c.due_on < window_end, judged()))
            .group_by(C.c.team, J.c.type)
        )
    ]  # fmt: skip
    breached = D.outerjoin(C, C.c.id == D.c.child_id)
    first_month = month_starts(as_of)[0]
    for half in (missed_open(as_of), met_late()):
        # Before the chart's months: one count per team and status.
        for r in conn.execute(
            select(C.c.team, D.c.status, func.count())
            .select_from(breached)
            .where(half, D.c.due_on < first_month)
            .group_by(C.c.team, D.c.status)
        ):
            rows.append(
                {"figure": "breach", "team": r[0], "journey_type": None, "status": r[1],
                 "month": None, "n": int(r[2]), "m": 0}
            )  # fmt: skip
        # The chart's months: per day (month arithmetic differs between the dialects),
        # summed into months here, per team.
        per_team: dict[str | None, list[tuple[date, str, int]]] = defaultdict(list)
        for r in conn.execute(
            select(C.c.team, D.c.due_on, D.c.status, func.count())
            .select_from(breached)
            .where(half, D.c.due_on >= first_month)
            .group_by(C.c.team, D.c.due_on, D.c.status)
        ):
            per_team[r[0]].append((r[1], r[2], int(r[3])))
        for team, days in per_team.items():
            for month in bucket_by_month(days, as_of):
                for status, n in (("open", month.still_open), ("met", month.met_late)):
                    if n:
                        rows.append(
                            {"figure": "breach", "team": team, "journey_type": None,
                             "status": status, "month": month.month, "n": n, "m": 0}
                        )  # fmt: skip
    return rows


def refresh_drift_snapshot(
    engine: Engine,
    as_of: date,
    *,
    escalations: Callable[[Connection], list[dict[str, Any]]] | None = None,
) -> int:
    """Compute the director's figures as of ``as_of`` for every team and store them as the
    newest snapshot (older ones deleted in the same transaction). Returns its id.

    ``escalations`` adds the open escalation groups' counts (``escalation`` rows: team,
    journey type, ``m`` the highest rung's rank, ``n`` how many), read in the same view as
    the figures; the notifications count them (``notifications.service``, a floor above),
    and the snapshot then says so (``escalations_counted``).

    A system job (the scheduler's, after each sweep): no principal; the page scopes the
    counts to the reader's teams when it reads them."""
    computed_at = now_utc()
    with read_connection(engine) as conn:
        rows = _compute(conn, as_of)
        if escalations is not None:
            rows += [
                {"figure": "escalation", "status": None, "month": None, **r}
                for r in escalations(conn)
            ]
    with write_connection(engine) as conn:
        snapshot_id = insert_id(
            conn.execute(
                insert(SNAPSHOTS).values(
                    as_of=as_of,
                    computed_at=computed_at,
                    escalations_counted=escalations is not None,
                )
            )
        )
        if rows:
            conn.execute(insert(COUNTS), [{**r, "snapshot_id": snapshot_id} for r in rows])
        older = select(SNAPSHOTS.c.id).where(SNAPSHOTS.c.id < snapshot_id).scalar_subquery()
        conn.execute(delete(COUNTS).where(COUNTS.c.snapshot_id.in_(older)))
        conn.execute(delete(SNAPSHOTS).where(SNAPSHOTS.c.id < snapshot_id))
    return snapshot_id


def newest_snapshot(conn: Connection) -> Any | None:
    """The newest snapshot (``id``, ``as_of``, ``computed_at``, ``escalations_counted``),
    or None."""
    return conn.execute(
        select(
            SNAPSHOTS.c.id,
            SNAPSHOTS.c.as_of,
            SNAPSHOTS.c.computed_at,
            SNAPSHOTS.c.escalations_counted,
        )
        .order_by(SNAPSHOTS.c.id.desc())
        .limit(1)
    ).first()


def snapshot_figures(engine: Engine, principal: Principal, *, as_of: date) -> DriftFigures | None:
    """The newest snapshot's figures, scoped to the principal's teams, if it was computed
    for ``as_of``; None otherwise."""
    teams = _teams(principal)
    with read_connection(engine) as conn:
        snap = newest_snapshot(conn)
        if snap is None or snap.as_of != as_of:
            return None
        scope = [COUNTS.c.snapshot_id == snap.id]
        if teams is not None:
            scope.append(COUNTS.c.team.in_(sorted(teams)))
        cells = {
            (r.team, r.journey_type): Cell(int(r.n), int(r.m))
            for r in conn.execute(
                select(COUNTS.c.team, COUNTS.c.journey_type, COUNTS.c.n, COUNTS.c.m).where(
                    *scope, COUNTS.c.figure == "cell"
                )
            )
        }
        breaches = conn.execute(
            select(COUNTS.c.month, COUNTS.c.status, func.sum(COUNTS.c.n))
            .where(*scope, COUNTS.c.figure == "breach")
            .group_by(COUNTS.c.month, COUNTS.c.status)
        ).all()
    total = sum(int(r[2]) for r in breaches)
    monthly = [(r[0], r[1], int(r[2])) for r in breaches if r[0] is not None]
    return DriftFigures(
        as_of,
        total,
        Breakdown(cells),
        bucket_by_month(monthly, as_of),
        computed_at=snap.computed_at,
    )


def current_figures(engine: Engine, principal: Principal, *, as_of: date) -> DriftFigures:
    """The director's figures: today's snapshot if there is one, else computed now."""
    return snapshot_figures(engine, principal, as_of=as_of) or drift_figures(
        engine, principal, as_of=as_of
    )
