"""The cohorts' members kept as a snapshot: computed by the scheduler's daily job and after
each care-record import, read by the panel tracker in one bounded query (issue 14).

Computed on each view, the members of the cohorts a panel's parts take cost 7.5 s at
national size (84,000 children): :func:`services.cohorts.compute` judges every child's care
record as of the day. Membership changes with the care record (an import) and with the
date (a placement passing 16 weeks, an order passing 12 months), so a snapshot refreshed
after each import and once a day holds what the tracker needs; the tracker says when it was
computed. The scheduler and the importer store every cohort, not only the ones a preset's
parts take: they sit below the panels' floor and cannot read the preset, and one snapshot
then serves any panel (the tracker picks its cohorts by name, by index). A tracker view
that finds no snapshot holding its cohorts for its day (a fresh database, no daily job yet)
computes and stores its own panel's cohorts once, as the view did before, and the views
after it read that.

Each snapshot is written whole in one transaction; the one before it is kept (a tracker
view that picked it a moment earlier still reads its members) and older ones deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Select,
    delete,
    false,
    func,
    insert,
    select,
    update,
)
from sqlmodel import Field, SQLModel

from services import cohorts
from services.clock import now_utc
from services.db import insert_id, read_connection, write_connection
from services.models import CHILDREN, core_table


class CohortSnapshot(SQLModel, table=True):
    """One computing of every cohort's members (migration 0026)."""

    __tablename__: ClassVar[Any] = "cohort_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    as_of: date  # the day membership was judged on
    computed_at: datetime  # when it was computed (the tracker shows it)
    # The cohorts it holds, by name, space-separated: every cohort (the scheduler's and the
    # importer's), or a panel's own (a tracker view that found none to read).
    cohorts: str = Field(max_length=2000)
    # Its members carry their place, date and sentence, so the cohort pages can read it
    # (migration 0032; a snapshot stored before it has only the tracker's columns).
    sentences: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # How many members each cohort holds, every team's (the cohort list page's counts for a
    # reader who sees every team, without counting a few hundred thousand rows per view).
    counts: dict[str, int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class CohortMember(SQLModel, table=True):
    """A child in a cohort in a snapshot, with the journey an agenda item hangs off."""

    __tablename__: ClassVar[Any] = "cohort_member"
    # The tracker reads a panel's cohorts by (snapshot, cohort); a cohort page reads a page
    # of one cohort in its order (by date, then child) from the same index (migration 0032).
    __table_args__ = (
        Index("ix_cohort_member_snapshot_cohort", "snapshot_id", "cohort", "since", "child_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="cohort_snapshot.id")
    cohort: str = Field(max_length=50)
    child_id: int = Field(foreign_key="child.id")
    journey_id: int | None = Field(default=None, foreign_key="journey.id")
    # The date the child came in and why the child is in (migration 0032): the cohort pages
    # show them, in ``services.cohorts.compute``'s order (by that date, then by child).
    since: date | None = None
    why: str | None = None


SNAPSHOTS = core_table(CohortSnapshot)
MEMBERS = core_table(CohortMember)


def refresh_cohort_snapshot(engine: Engine, as_of: date, names: Iterable[str] | None = None) -> int:
    """Compute the members of the cohorts of ``names`` (default: every cohort) as of
    ``as_of`` and store them as the newest snapshot (the one before kept, older ones
    deleted, in the same transaction). Returns its id.

    A system job (the scheduler's, the importer's, a tracker view's that found no snapshot
    to read): no principal; the tracker scopes the members to its reader's teams."""
    computed_at = now_utc()
    wanted = sorted({c.name for c in cohorts.COHORTS} if names is None else set(names))
    with read_connection(engine) as conn:
        found = cohorts.compute(conn, as_of, wanted)
    rows = _member_rows(found, sorted(found))
    with write_connection(engine) as conn:
        before = conn.execute(select(func.max(SNAPSHOTS.c.id))).scalar()
        snapshot_id = insert_id(
            conn.execute(
                insert(SNAPSHOTS).values(
                    as_of=as_of,
                    computed_at=computed_at,
                    cohorts=" ".join(wanted),
                    sentences=True,
                    counts={name: len(found[name]) for name in sorted(found)},
                )
            )
        )
        if rows:
            conn.execute(insert(MEMBERS), [{**r, "snapshot_id": snapshot_id} for r in rows])
        if before is not None:
            older = select(SNAPSHOTS.c.id).where(SNAPSHOTS.c.id < before).scalar_subquery()
            conn.execute(delete(MEMBERS).where(MEMBERS.c.snapshot_id.in_(older)))
            conn.execute(delete(SNAPSHOTS).where(SNAPSHOTS.c.id < before))
    return snapshot_id


def _member_rows(found: Mapping[str, Any], names: Iterable[str]) -> list[dict[str, Any]]:
    """The member rows of ``names``' cohorts as :func:`services.cohorts.compute` found them."""
    return [
        {
            "cohort": name,
            "child_id": m.child_id,
            "journey_id": m.journey_id,
            "since": m.since,
            "why": m.why,
        }
        for name in names
        for m in found[name]
    ]


def newest(conn: Connection) -> Any | None:
    """The newest snapshot (``id``, ``as_of``, ``computed_at``, ``cohorts``, ``sentences``,
    ``counts``), or None."""
    return conn.execute(
        select(
            SNAPSHOTS.c.id,
            SNAPSHOTS.c.as_of,
            SNAPSHOTS.c.computed_at,
            SNAPSHOTS.c.cohorts,
            SNAPSHOTS.c.sentences,
            SNAPSHOTS.c.counts,
        )
        .order_by(SNAPSHOTS.c.id.desc())
        .limit(1)
    ).first()


def newest_as_of(engine: Engine) -> date | None:
    """The day the newest snapshot was judged on, or None before the first."""
    with read_connection(engine) as conn:
        snap = newest(conn)
    return snap.as_of if snap is not None else None


def current_snapshot(engine: Engine, as_of: date, names: Iterable[str]) -> Any:
    """The snapshot a view as of ``as_of`` of the cohorts of ``names`` reads: the newest,
    unless there is none yet, it was judged on an earlier day (no daily job or import
    since) or it lacks one of ``names``; then the cohorts of ``names`` are computed once as
    of ``as_of`` and stored, and the views after it read that one (computing only the
    panel's cohorts: every cohort costs several times more at national size). A view of a
    past day reads the newest (the page says when it was computed)."""
    wanted = set(names)
    with read_connection(engine) as conn:
        snap = newest(conn)
    if snap is None or snap.as_of < as_of or not wanted <= set(snap.cohorts.split()):
        refresh_cohort_snapshot(engine, as_of, wanted)
        with read_connection(engine) as conn:
            snap = newest(conn)
    assert snap is not None
    return snap


# --- what the cohort pages and the API read ------------------------------------------------


def for_day(conn: Connection, as_of: date, *, sentences: bool) -> Any | None:
    """The newest snapshot if it was judged on ``as_of`` (and, with ``sentences``, its
    members carry their dates and sentences), else None: a page of another day, or of a day
    no snapshot was stored for yet, computes live. Unlike the tracker's
    :func:`current_snapshot` it never stores one: a view of a past date must not replace the
    day's snapshot the tracker reads."""
    snap = newest(conn)
    if snap is None or snap.as_of != as_of or (sentences and not snap.sentences):
        return None
    return snap


def held(snap: Any) -> set[str]:
    """The cohorts a snapshot holds."""
    return set(snap.cohorts.split())


def _in_teams(query: Select[Any], teams: frozenset[str] | None) -> Select[Any]:
    """``query`` over members narrowed to the children of ``teams`` (None: every team)."""
    if teams is None:
        return query
    return query.join(CHILDREN, CHILDREN.c.id == MEMBERS.c.child_id).where(
        CHILDREN.c.team.in_(sorted(teams))
    )


def counts(conn: Connection, snap: Any, teams: frozenset[str] | None) -> dict[str, int]:
    """How many members the principal's teams may see are in each cohort of the snapshot (a
    cohort with none is absent): the counts stored with it for a reader of every team, else
    one grouped count of the members joined to their children's teams."""
    if teams is None and snap.counts is not None:
        return {name: int(n) for name, n in snap.counts.items()}
    query = select(MEMBERS.c.cohort, func.count()).where(MEMBERS.c.snapshot_id == snap.id)
    query = _in_teams(query, teams)
    return {name: int(n) for name, n in conn.execute(query.group_by(MEMBERS.c.cohort))}


def total(conn: Connection, snap: Any, name: str, teams: frozenset[str] | None) -> int:
    """How many members of one cohort of the snapshot the principal's teams may see."""
    if teams is None and snap.counts is not None:
        return int(snap.counts.get(name, 0))
    query = select(func.count()).where(MEMBERS.c.snapshot_id == snap.id, MEMBERS.c.cohort == name)
    return int(conn.execute(_in_teams(query, teams)).scalar_one())


def members(
    conn: Connection,
    snapshot_id: int,
    name: str,
    teams: frozenset[str] | None,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[Any]:
    """One cohort's members in the snapshot that the principal's teams may see, in the
    cohort's order, from ``offset`` (at most ``limit``): ``child_id``, ``reference``,
    ``since``, ``why``. The order is ``services.cohorts.compute``'s (by the date the child
    came in, none last, then by child), which the member index holds."""
    query = (
        select(MEMBERS.c.child_id, CHILDREN.c.reference, MEMBERS.c.since, MEMBERS.c.why)
        .join(CHILDREN, CHILDREN.c.id == MEMBERS.c.child_id)
        .where(MEMBERS.c.snapshot_id == snapshot_id, MEMBERS.c.cohort == name)
        .order_by(MEMBERS.c.since.asc().nulls_last(), MEMBERS.c.child_id)
        .offset(offset)
        .limit(limit)
    )
    if teams is not None:
        query = query.where(CHILDREN.c.team.in_(sorted(teams)))
    return list(conn.execute(query))


def refresh_child(conn: Connection, child_id: int, as_of: date) -> None:
    """Judge one child again in the newest snapshot, when it holds ``as_of``: a write that
    changes the child's membership today (a carer approval) shows on the pages and the
    tracker at once, without computing every cohort again. In the caller's transaction."""
    snap = newest(conn)
    if snap is None or snap.as_of != as_of:
        return
    names = sorted(held(snap) & set(cohorts.BY_NAME))
    found = cohorts.compute(conn, as_of, names, child_ids=[child_id])
    was = select(MEMBERS.c.cohort).where(
        MEMBERS.c.snapshot_id == snap.id, MEMBERS.c.child_id == child_id
    )
    before = list(conn.execute(was).scalars())
    conn.execute(
        delete(MEMBERS).where(MEMBERS.c.snapshot_id == snap.id, MEMBERS.c.child_id == child_id)
    )
    rows = [{**row, "snapshot_id": snap.id} for row in _member_rows(found, names)]
    if rows:
        conn.execute(insert(MEMBERS), rows)
    if snap.counts is not None:
        stored = dict(snap.counts)
        for name in before:
            stored[name] = stored.get(name, 0) - 1
        for row in rows:
            stored[row["cohort"]] = stored.get(row["cohort"], 0) + 1
        conn.execute(update(SNAPSHOTS).where(SNAPSHOTS.c.id == snap.id).values(counts=stored))
