"""The tracked cohorts as the agenda builder takes them: each member with its next deadline.

The cohorts themselves (their rules, thresholds and sentences, from the care record or from
journeys) are defined once in ``services.cohorts``; this adds what an agenda needs of each
member: the child's earliest open deadline, which orders the most urgent first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, func, select

from services import cohorts
from services.models import DEADLINES as D


@dataclass(frozen=True)
class Member:
    """A child in a cohort, through one of their journeys (or none: a child known only from
    the care record), with why and the child's earliest open deadline."""

    cohort: str
    child_id: int
    journey_id: int | None
    next_due: date | None
    why: str = ""


def load_next_due(conn: Connection) -> dict[int, date]:
    """Each child's earliest open journey deadline."""
    rows = conn.execute(
        select(D.c.child_id, func.min(D.c.due_on))
        .where(and_(D.c.status == "open", D.c.child_id.is_not(None)))
        .group_by(D.c.child_id)
    )
    return {child_id: due_on for child_id, due_on in rows}


def members(
    conn: Connection, names: Iterable[str], on: date, next_due: dict[int, date]
) -> list[Member]:
    """Every (cohort, child) holding on ``on`` for the cohorts named."""
    found = cohorts.compute(conn, on, set(names))
    rank = {c.name: n for n, c in enumerate(cohorts.COHORTS)}
    # Child by child, each child's cohorts in the order of cohorts.COHORTS (the adoption
    # tracker first): an item that several cohorts bring is named by the first.
    ordered = sorted(
        (m for ms in found.values() for m in ms), key=lambda m: (m.child_id, rank[m.cohort])
    )
    return [
        Member(m.cohort, m.child_id, m.journey_id, next_due.get(m.child_id), m.why) for m in ordered
    ]
