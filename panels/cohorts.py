"""Which children each tracked cohort holds on a date, from their journeys and records.

Loaded with a handful of set-based queries (active journeys with their child, open
deadlines), then judged in memory: cheap for the few thousand children of an authority.
A child enters a cohort through a journey, so every agenda item has a journey its actions
and deadlines can hang off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, select

from services.models import CHILDREN as C
from services.models import DEADLINES as D
from services.models import JOURNEYS as J
from workflow.calendar import add_months

_ICO_STATES = ("ico_made", "final_evidence_filed", "final_hearing_listed")
# Adoption states in which permanence is as good as secured: the child has moved in.
_ADOPTION_SETTLED = ("placed", "application_lodged")
# Cohorts that hold every child with an active journey of one type.
_BY_JOURNEY = (
    ("connected_person_approvals", "connected_person_approval"),
    ("reunification", "reunification"),
    ("child_arrangements_orders", "child_arrangements_order"),
)


@dataclass(frozen=True)
class JourneyRow:
    """An active journey with what cohorts need of its child."""

    journey_id: int
    child_id: int
    type: str
    state: str
    started_on: date
    looked_after_since: date | None
    legal_status: str | None
    team: str
    # The journey's recorded facts (a permanence plan's primary and contingency plans).
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Member:
    """A child in a cohort, through one of their journeys."""

    cohort: str
    child_id: int
    journey_id: int
    next_due: date | None


def _plans_adoption(j: JourneyRow) -> bool:
    """A recorded permanence plan whose primary or contingency plan is adoption (Wirral
    tracks "a primary or contingency plan for adoption")."""
    return j.type == "permanence_planning" and "adoption" in (
        j.data.get("primary_plan"),
        j.data.get("contingency_plan"),
    )


def load_journeys(conn: Connection) -> list[JourneyRow]:
    """Every active journey with its child's dates and status."""
    rows = conn.execute(
        select(
            J.c.id,
            J.c.child_id,
            J.c.type,
            J.c.state,
            J.c.started_on,
            C.c.looked_after_since,
            C.c.legal_status,
            C.c.team,
            J.c.data,
        )
        .select_from(J.join(C, C.c.id == J.c.child_id))
        .where(J.c.status == "active")
    )
    return [JourneyRow(*r[:-1], data=r[-1] or {}) for r in rows]


def load_next_due(conn: Connection) -> dict[int, date]:
    """Each child's earliest open journey deadline."""
    out: dict[int, date] = {}
    rows = conn.execute(
        select(D.c.child_id, D.c.due_on).where(
            and_(D.c.status == "open", D.c.child_id.is_not(None))
        )
    )
    for child_id, due_on in rows:
        if child_id not in out or due_on < out[child_id]:
            out[child_id] = due_on
    return out


def secured_ltf(rows: Iterable[JourneyRow], conn: Connection) -> set[int]:
    """Children with an approved long-term plan (long-term fostering match approved)."""
    del rows
    approved = conn.execute(
        select(J.c.child_id).where(and_(J.c.type == "long_term_fostering", J.c.state == "approved"))
    )
    return {r.child_id for r in approved}


def members(
    cohorts: Iterable[str],
    on: date,
    journeys: list[JourneyRow],
    next_due: dict[int, date],
    approved_long_term: set[int],
) -> list[Member]:
    """Every (cohort, child, journey) holding on ``on``."""
    wanted = set(cohorts)
    by_child: dict[int, list[JourneyRow]] = defaultdict(list)
    for j in journeys:
        by_child[j.child_id].append(j)
    year_ago = add_months(on, -12)
    out: list[Member] = []

    def add(cohort: str, j: JourneyRow) -> None:
        out.append(Member(cohort, j.child_id, j.journey_id, next_due.get(j.child_id)))

    for child_id, rows in by_child.items():
        types = {j.type: j for j in rows}
        anchor = types.get("permanence_planning") or rows[0]
        if "adoption_tracker" in wanted:
            if "adoption" in types:
                add("adoption_tracker", types["adoption"])
            elif anchor.legal_status == "placement_order" or _plans_adoption(anchor):
                add("adoption_tracker", anchor)
        pwp = types.get("placed_with_parents")
        if pwp is not None:
            if "placed_with_parents" in wanted:
                add("placed_with_parents", pwp)
            # The journey starts on the day of placement (its start records placed_on).
            placed = pwp.started_on
            if "placed_with_parents_12m" in wanted and placed < year_ago:
                add("placed_with_parents_12m", pwp)
        if "looked_after_12m_no_plan" in wanted:
            since = anchor.looked_after_since
            adoption = types.get("adoption")
            settled = adoption is not None and adoption.state in _ADOPTION_SETTLED
            if (
                since is not None
                and since < year_ago
                and child_id not in approved_long_term
                and not settled
                and pwp is None  # placed at home is scrutinised in its own cohort
            ):
                add("looked_after_12m_no_plan", anchor)
        if "breached_deadlines" in wanted:
            due = next_due.get(child_id)
            if due is not None and due < on:
                add("breached_deadlines", anchor)
        cp = types.get("care_proceedings")
        if cp is not None:
            if "care_proceedings" in wanted:
                add("care_proceedings", cp)
            if "interim_care_orders" in wanted and cp.state in _ICO_STATES:
                add("interim_care_orders", cp)
        if "section_20" in wanted and anchor.legal_status == "section_20":
            add("section_20", anchor)
        if "sgo_plans" in wanted and "sgo" in types:
            add("sgo_plans", types["sgo"])
        ltf = types.get("long_term_fostering")
        if "long_term_matching" in wanted and ltf is not None:
            add("long_term_matching", ltf)
        for cohort, journey_type in _BY_JOURNEY:
            if cohort in wanted and journey_type in types:
                add(cohort, types[journey_type])
        pp = types.get("permanence_planning")
        if "permanence_plan_required" in wanted and pp is not None and pp.state == "plan_required":
            add("permanence_plan_required", pp)
    return out
