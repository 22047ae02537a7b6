"""Escalations: they reach the service director on the configured steps, need an answer,
and stop once acknowledged or met; the breach register shows what was missed and done."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from notifications.policy import Policies
from services.models import AUDIT_LOG as A
from tests.conftest import Staff
from tests.reminder_support import d, first_review_child, run_days


def _escalation_id(api: object, level: str) -> int:
    rows = api.get("/escalations?status=open").json()  # type: ignore[attr-defined]
    return int(next(e["id"] for e in rows if e["level"] == level))


def test_escalation_reaches_the_service_director_for_a_default_kind(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    # A placed-with-parents review (not statutory here): the default, longer ladder.
    child = staff.sw.create_child("C-0300", looked_after_since="2026-01-05")
    journey = staff.sw.start(child["id"], "placed_with_parents", "2026-02-02")
    due = {x["kind"]: x["due_on"] for x in journey["deadlines"]}
    assert due["pwp_review"] == "2026-05-02"  # a Saturday
    sent = run_days(engine, policies, d("2026-05-01"), d("2026-05-31"))
    escalations = {day: [n for n in ns if n[1].startswith("escalate_")] for day, ns in sent.items()}
    assert {k: v for k, v in escalations.items() if v} == {
        d("2026-05-05"): [("pwp_review", "escalate_team_manager", "tm.north")],  # after May Day
        d("2026-05-11"): [("pwp_review", "escalate_service_manager", "sm")],
        d("2026-05-18"): [("pwp_review", "escalate_service_director", "sd")],
    }


def test_acknowledged_escalation_stops_the_ladder(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    first_review_child(staff.sw)  # first review due Tue 26 May 2026 (statutory ladder)
    run_days(engine, policies, d("2026-05-01"), d("2026-05-27"))
    tm_escalation = _escalation_id(staff.tm, "team_manager")
    # Neither the social worker nor another team's manager may answer it.
    assert staff.sw.get("/escalations").status_code == 403
    refused = staff.tm_south.post(f"/escalations/{tm_escalation}/acknowledge", {"comment": "x"})
    assert refused.status_code in (403, 404)
    answered = staff.tm.post(
        f"/escalations/{tm_escalation}/acknowledge",
        {"comment": "Review booked for 3 June; IRO confirmed."},
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["status"] == "acknowledged" and body["acknowledged_by"] == "tm.north"
    again = staff.tm.post(f"/escalations/{tm_escalation}/acknowledge", {"comment": "again"})
    assert again.status_code == 409
    # No more rungs: the service manager and the director hear nothing.
    later = run_days(engine, policies, d("2026-05-28"), d("2026-06-30"))
    assert later == {}
    assert staff.sd.get("/escalations?status=open").json() == []
    with engine.connect() as conn:
        audit = conn.execute(select(A).where(A.c.action == "acknowledge_escalation")).all()
    assert len(audit) == 1 and audit[0].entity_id == tm_escalation
    assert audit[0].actor_id == staff.tm.user_id
    # The breach register lists the missed review, the escalation and the answer.
    breaches = staff.sd.get("/breaches?as_of=2026-06-01").json()
    assert len(breaches) == 1
    b = breaches[0]
    assert (b["kind"], b["status"], b["due_on"], b["days_late"], b["working_days_late"]) == (
        "first_review",
        "open",
        "2026-05-26",
        6,
        4,
    )
    assert [(e["level"], e["acknowledged_by"]) for e in b["escalations"]] == [
        ("team_manager", "tm.north")
    ]
    assert b["escalations"][0]["comment"].startswith("Review booked")


def test_escalation_to_the_director_stops_once_met_and_a_senior_may_answer(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    journey = first_review_child(staff.sw)
    run_days(engine, policies, d("2026-05-01"), d("2026-06-02"))
    open_now = staff.sd.get("/escalations?status=open").json()
    assert sorted(e["level"] for e in open_now) == [
        "service_director",
        "service_manager",
        "team_manager",
    ]
    director = next(e for e in open_now if e["level"] == "service_director")
    assert director["recipient"] == "sd" and director["child_reference"] == "C-0001"
    # A team manager sees their team's escalations; the service manager may not answer the
    # director's, but may answer the team manager's (more senior).
    assert len(staff.tm.get("/escalations?status=open").json()) == 3
    assert staff.tm_south.get("/escalations?status=open").json() == []
    sm_denied = staff.sm.post(f"/escalations/{director['id']}/acknowledge", {"comment": "seen"})
    assert sm_denied.status_code == 403
    tm_rung = next(e for e in open_now if e["level"] == "team_manager")
    assert (
        staff.sm.post(f"/escalations/{tm_rung['id']}/acknowledge", {"comment": "on it"}).status_code
        == 200
    )
    # The review is held late on 3 June: the deadline is met, open escalations resolve.
    staff.sw.fire(journey, "hold_review", "2026-06-03")
    assert staff.sd.get("/escalations?status=open").json() == []
    resolved = staff.sd.get("/escalations?status=all").json()
    assert {e["level"]: e["status"] for e in resolved} == {
        "team_manager": "acknowledged",
        "service_manager": "acknowledged",  # a rung above was answered: in hand
        "service_director": "acknowledged",
    }
    met = staff.sd.get("/breaches?status=met_late&as_of=2026-06-10").json()
    assert [(b["kind"], b["met_on"], b["days_late"]) for b in met] == [
        ("first_review", "2026-06-03", 8)
    ]
    assert staff.sw.get("/breaches").status_code == 403
    assert staff.sd.client.get("/api/v1/breaches").status_code == 401


def test_director_not_yet_reached_when_met_in_time(
    engine: Engine, staff: Staff, policies: Policies
) -> None:
    journey = first_review_child(staff.sw)
    run_days(engine, policies, d("2026-05-01"), d("2026-05-29"))
    staff.sw.fire(journey, "hold_review", "2026-06-01")
    sent = run_days(engine, policies, d("2026-06-01"), d("2026-06-30"))
    assert all(n[0] != "first_review" for ns in sent.values() for n in ns)
    assert date(2026, 6, 2) not in sent
