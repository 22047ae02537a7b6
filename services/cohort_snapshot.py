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

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, Index, delete, func, insert, select
from sqlmodel import Field, SQLModel

from services import cohorts
from services.clock import now_utc
from services.db import insert_id, read_connection, write_connection
from services.models import core_table


class CohortSnapshot(SQLModel, table=True):
    """One computing of every cohort's members (migration 0026)."""

    __tablename__: ClassVar[Any] = "cohort_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    as_of: date  # the day membership was judged on
    computed_at: datetime  # when it was computed (the tracker shows it)
    # The cohorts it holds, by name, space-separated: every cohort (the scheduler's and the
    # importer's), or a panel's own (a tracker view that found none to read).
    cohorts: str = Field(max_length=2000)


class CohortMember(SQLModel, table=True):
    """A child in a cohort in a snapshot, with the journey an agenda item hangs off."""

    __tablename__: ClassVar[Any] = "cohort_member"
    __table_args__ = (Index("ix_cohort_member_snapshot_cohort", "snapshot_id", "cohort"),)

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="cohort_snapshot.id")
    cohort: str = Field(max_length=50)
    child_id: int = Field(foreign_key="child.id")
    journey_id: int | None = Field(default=None, foreign_key="journey.id")


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
    rows = [
        {"cohort": name, "child_id": m.child_id, "journey_id": m.journey_id}
        for name in sorted(found)
        for m in found[name]
    ]
    with write_connection(engine) as conn:
        before = conn.execute(select(func.max(SNAPSHOTS.c.id))).scalar()
        snapshot_id = insert_id(
            conn.execute(
                insert(SNAPSHOTS).values(
                    as_of=as_of, computed_at=computed_at, cohorts=" ".join(wanted)
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


def newest(conn: Connection) -> Any | None:
    """The newest snapshot (``id``, ``as_of``, ``computed_at``, ``cohorts``), or None."""
    return conn.execute(
        select(SNAPSHOTS.c.id, SNAPSHOTS.c.as_of, SNAPSHOTS.c.computed_at, SNAPSHOTS.c.cohorts)
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
