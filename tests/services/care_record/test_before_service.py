"""Imported journeys' back-dated deadlines (issue 13): a deadline that fell due before the
child's record entered the service is no breach, gets no notice and waits on the child page
until someone records it met (with its date) or missed; one the return itself proves late
(a review held after its due date) counts as any other."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from notifications.policy import Policies
from notifications.service import breaches
from notifications.sweep import sweep
from services import caseload
from services.access import Principal
from services.care_record import lists
from services.care_record.importer import import_return
from services.db import read_connection
from services.deadlines import AlreadyConfirmed, confirm_deadline, deadlines_to_confirm
from services.drift import drift_figures
from services.journeys import AccessDenied, NotFound
from services.models import AUDIT_LOG, CHILDREN, DEADLINES
from tests.conftest import Api, Staff
from tests.services.care_record.support import ALLOCATION, AS_OF, REVIEWS, SmallReturn, episode
from tests.services.care_record.support import header as child_header
from workflow.errors import InvalidData


def before_service_return(folder: Path) -> SmallReturn:
    """Two children of team north, imported on 2 December 2026.

    * ``OLD`` in care since 1 January 2025, one review on 20 March 2025: its first review
      (due 29 January 2025) was held late, which the return proves; its second review and
      permanence plan fell due in 2025, before the service: the return cannot say.
    * ``NEW`` in care since 10 November 2026: its first review falls due after the import.
    """
    return (
        SmallReturn(folder)
        .headers(child_header("OLD", SEX="M"), child_header("NEW", SEX="F"))
        .episodes(episode("OLD", "01/01/2025"), episode("NEW", "10/11/2026"))
        .add("reviews", REVIEWS, {"CHILD": "OLD", "REVIEW": "20/03/2025", "REVIEW_CODE": "PN1"})
        .add(
            "allocation",
            ALLOCATION,
            *(
                {
                    "CHILD": c,
                    "REFERENCE": f"REF-{c}",
                    "GIVEN_NAME": "A",
                    "FAMILY_NAME": c.title(),
                    "TEAM": "north",
                    "SOCIAL_WORKER": "sw.north",
                }
                for c in ("OLD", "NEW")
            ),
        )
    )


def principal(user: Api, role: str, team: str | None = None) -> Principal:
    return Principal(user.user_id, user.username, frozenset({role}), team)


def child_pk(engine: Engine, reference: str) -> int:
    with read_connection(engine) as conn:
        found = conn.execute(select(CHILDREN.c.id).where(CHILDREN.c.reference == reference))
        return int(found.scalar_one())


def deadlines(engine: Engine, reference: str) -> dict[str, Any]:
    """The child's deadlines by kind."""
    with read_connection(engine) as conn:
        rows = conn.execute(
            select(DEADLINES).where(DEADLINES.c.child_id == child_pk(engine, reference))
        ).all()
    return {r.kind: r for r in rows}


@pytest.fixture
def imported(engine: Engine, staff: Staff, tmp_path: Path) -> Staff:
    report = import_return(engine, before_service_return(tmp_path).write(), as_of=AS_OF)
    assert report.rejections == []
    return staff


def test_the_import_marks_only_the_deadlines_due_before_it(engine: Engine, imported: Staff) -> None:
    old = deadlines(engine, "REF-OLD")
    # Proven late by the return: met (by the review on record) after its due date.
    assert old["first_review"].status == "met"
    assert old["first_review"].met_on == date(2025, 3, 20)
    assert old["first_review"].due_on < old["first_review"].met_on
    assert old["first_review"].before_service is False
    open_old = {k: r for k, r in old.items() if r.status == "open"}
    assert {"second_review", "permanence_plan"} <= set(open_old)
    assert all(r.before_service and r.due_on < AS_OF for r in open_old.values())
    new = deadlines(engine, "REF-NEW")
    assert new["first_review"].status == "open" and new["first_review"].due_on >= AS_OF
    assert new["first_review"].before_service is False
    listed = deadlines_to_confirm(engine, child_pk(engine, "REF-OLD"))
    assert {d["kind"] for d in listed} == set(open_old)
    assert deadlines_to_confirm(engine, child_pk(engine, "REF-NEW")) == []


def test_the_breach_register_and_the_directors_figures_count_only_what_the_return_proves(
    engine: Engine, imported: Staff
) -> None:
    director = principal(imported.sd, "service_director")
    register = breaches(engine, director, as_of=AS_OF)
    assert [(r["kind"], r["status"]) for r in register] == [("first_review", "met_late")]
    figures = drift_figures(engine, director, as_of=AS_OF)
    assert figures.breaches == 1
    # Nothing overdue in the breakdown: the open back-dated deadlines wait for confirmation.
    assert all(cell.overdue == 0 for cell in figures.breakdown.cells.values())


def test_the_sweep_sends_nothing_for_them_until_one_is_confirmed_missed(
    engine: Engine, imported: Staff, policies: Policies
) -> None:
    old = deadlines(engine, "REF-OLD")
    to_confirm = {r.id for r in old.values() if r.before_service}
    result = sweep(engine, policies, AS_OF)
    assert not [n for n in result.notices if n.deadline_id in to_confirm]
    # Recorded missed: an ordinary overdue deadline, a breach, and escalated.
    plan = old["permanence_plan"]
    confirm_deadline(engine, plan.id, principal(imported.sw, "social_worker", "north"), met_on=None)
    later = sweep(engine, policies, AS_OF)
    steps = sorted(n.step for n in later.notices if n.deadline_id == plan.id)
    assert "overdue" in steps and "escalate_team_manager" in steps
    register = breaches(engine, principal(imported.sd, "service_director"), as_of=AS_OF)
    assert ("permanence_plan", "open") in [(r["kind"], r["status"]) for r in register]


def test_recording_one_met_judges_it_by_that_date(engine: Engine, imported: Staff) -> None:
    old = deadlines(engine, "REF-OLD")
    second = old["second_review"]
    sw = principal(imported.sw, "social_worker", "north")
    with pytest.raises(InvalidData):
        confirm_deadline(engine, second.id, sw, met_on=date(2030, 1, 1))  # after today
    late = date.fromordinal(second.due_on.toordinal() + 10)
    confirm_deadline(engine, second.id, sw, met_on=late)
    after = deadlines(engine, "REF-OLD")["second_review"]
    assert (after.status, after.met_on, after.before_service) == ("met", late, False)
    register = breaches(engine, principal(imported.sd, "service_director"), as_of=AS_OF)
    assert ("second_review", "met_late") in [(r["kind"], r["status"]) for r in register]
    with pytest.raises(AlreadyConfirmed):
        confirm_deadline(engine, second.id, sw, met_on=late)
    with read_connection(engine) as conn:
        details = conn.execute(
            select(AUDIT_LOG.c.details).where(AUDIT_LOG.c.action == "deadline_confirmed")
        ).scalar_one()
    assert details["outcome"] == "met" and details["met_on"] == late.isoformat()


def test_recording_one_met_on_time_is_no_breach(engine: Engine, imported: Staff) -> None:
    second = deadlines(engine, "REF-OLD")["second_review"]
    confirm_deadline(
        engine, second.id, principal(imported.sw, "social_worker", "north"), met_on=second.due_on
    )
    register = breaches(engine, principal(imported.sd, "service_director"), as_of=AS_OF)
    assert [r["kind"] for r in register] == ["first_review"]


def test_only_the_childs_team_may_record_it(engine: Engine, imported: Staff) -> None:
    second = deadlines(engine, "REF-OLD")["second_review"]
    with pytest.raises(AccessDenied):
        confirm_deadline(
            engine, second.id, principal(imported.tm_south, "team_manager", "south"), met_on=None
        )
    assert deadlines(engine, "REF-OLD")["second_review"].before_service is True


def test_a_reimport_keeps_them_waiting(engine: Engine, imported: Staff, tmp_path: Path) -> None:
    before = {k: r.before_service for k, r in deadlines(engine, "REF-OLD").items()}
    again = import_return(engine, before_service_return(tmp_path / "again").write(), as_of=AS_OF)
    assert again.events_recorded == 0
    assert {k: r.before_service for k, r in deadlines(engine, "REF-OLD").items()} == before


def test_my_work_counts_the_caseloads_deadlines_to_confirm_by_the_one_rule(
    engine: Engine, imported: Staff
) -> None:
    sw = principal(imported.sw, "social_worker", "north")
    old = deadlines(engine, "REF-OLD")
    waiting = sorted(
        (r for r in old.values() if r.status == "open" and r.before_service),
        key=lambda r: (r.due_on, r.id),
    )
    mine = caseload.deadlines_to_confirm(engine, sw, caseload.Filters(worker_id=sw.user_id))
    assert (mine.total, mine.children) == (len(waiting), 1)
    assert [(d.deadline_id, d.reference, d.due_on) for d in mine.oldest] == [
        (r.id, "REF-OLD", r.due_on) for r in waiting
    ]
    assert mine.oldest[0].label  # in words, from the deadline kinds
    assert (
        caseload.deadlines_to_confirm(engine, sw, caseload.Filters(), limit=1).oldest
        == (mine.oldest[:1])
    )
    # Another social worker's caseload, and another team: none of them.
    other = caseload.deadlines_to_confirm(engine, sw, caseload.Filters(worker_id=-1))
    assert (other.total, other.oldest) == (0, [])
    south = principal(imported.tm_south, "team_manager", "south")
    assert caseload.deadlines_to_confirm(engine, south, caseload.Filters()).total == 0
    # Recorded: off the count (the rule is deadlines.to_confirm, nothing restated).
    confirm_deadline(engine, waiting[0].id, sw, met_on=None)
    after = caseload.deadlines_to_confirm(engine, sw, caseload.Filters())
    assert after.total == len(waiting) - 1
    with read_connection(engine) as conn:
        reads = conn.execute(
            select(AUDIT_LOG.c.details).where(AUDIT_LOG.c.action == "read.deadlines_to_confirm")
        ).all()
    assert reads and reads[0].details["child_ids"] == [child_pk(engine, "REF-OLD")]


def test_the_to_confirm_list_names_the_child_once_with_how_many(
    engine: Engine, imported: Staff
) -> None:
    sw = principal(imported.sw, "social_worker", "north")
    waiting = [r for r in deadlines(engine, "REF-OLD").values() if r.before_service]
    found = lists.to_confirm(engine, sw, as_of=AS_OF)
    rows = [r for r in found.rows if r.reason == lists.DEADLINE_BEFORE_SERVICE]
    assert [(r.reference, r.deadlines, r.since) for r in rows] == [
        ("REF-OLD", len(waiting), min(r.due_on for r in waiting))
    ]
    assert rows[0].fact.startswith(f"{len(waiting)} deadlines fell due before")
    assert not rows[0].dismissable
    assert lists.to_confirm_count(engine, sw, as_of=AS_OF) == 1
    south = principal(imported.tm_south, "team_manager", "south")
    assert lists.to_confirm(engine, south, as_of=AS_OF).rows == ()
    with pytest.raises(NotFound):
        lists.dismiss(
            engine,
            sw,
            child_pk(engine, "REF-OLD"),
            reason=lists.DEADLINE_BEFORE_SERVICE,
            note="Not a dismissal.",
        )
    for r in waiting:
        confirm_deadline(engine, r.id, sw, met_on=None)
    assert lists.to_confirm(engine, sw, as_of=AS_OF).rows == ()
