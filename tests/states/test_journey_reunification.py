"""Reunification: Schedule 3 assessment and its deadline, the decision, the return home."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, UserFactory


def _deadlines(journey: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    return [(d["kind"], d["due_on"], d["status"], d["met_on"]) for d in journey["deadlines"]]


def test_walk_to_closed(sw: Api, adm: Api, make_user: UserFactory) -> None:
    child = sw.create_child("REU-1")
    journey = sw.start(
        child["id"],
        "reunification",
        "2025-09-01",
        {"assessment_kind": "schedule_3", "assessment_due": "2025-10-31"},
    )
    assert journey["state"] == "assessment_started"
    assert _deadlines(journey) == [("reunification_assessment", "2025-10-31", "open", None)]

    refused = sw.fire(journey, "complete_assessment", "2025-10-20", expect=422)
    assert refused["errors"] == ["summary is required"]
    journey = sw.fire(journey, "complete_assessment", "2025-10-20", {"summary": "Positive."})
    assert journey["state"] == "assessed"
    assert _deadlines(journey) == [("reunification_assessment", "2025-10-31", "met", "2025-10-20")]

    decision = {"decision": "return_home", "reason": "Parents engaged with the plan."}
    assert sw.fire(journey, "decide", "2025-10-27", decision, expect=403)["error"] == (
        "role_not_allowed"
    )
    journey = adm.fire(journey, "decide", "2025-10-27", decision)
    assert journey["state"] == "decided"

    refused = sw.fire(journey, "return_home", "2025-10-26", expect=422)
    assert refused["reasons"] == ["The date 2025-10-26 is before the decision (2025-10-27)."]
    journey = sw.fire(journey, "return_home", "2025-11-03")
    assert journey["state"] == "returned_home"
    assert _deadlines(journey)[-1] == ("post_return_review", "2026-02-03", "open", None)

    iro = make_user("iro", "iro")
    journey = iro.fire(journey, "hold_post_return_review", "2026-01-28", {"notes": "Settled."})
    assert journey["state"] == "post_return_review"
    assert _deadlines(journey)[-1] == ("post_return_review", "2026-02-03", "met", "2026-01-28")
    assert iro.fire(journey, "close", "2026-02-10", expect=403)["error"] == "role_not_allowed"
    journey = sw.fire(journey, "close", "2026-02-10")
    assert (journey["state"], journey["status"], journey["closed_on"]) == (
        "closed",
        "closed",
        "2026-02-10",
    )


def test_placed_before_the_assessment_gives_ten_working_days_across_christmas(sw: Api) -> None:
    # Placed on Friday 19 December 2025: Christmas, Boxing Day and New Year's Day are not
    # working days, so regulation 20's 10 working days end on Wednesday 7 January 2026.
    child = sw.create_child("REU-2")
    journey = sw.start(
        child["id"],
        "reunification",
        "2025-12-22",
        {"assessment_kind": "placement_with_parents", "placed_before_assessment_on": "2025-12-19"},
    )
    assert _deadlines(journey) == [("reunification_assessment", "2026-01-07", "open", None)]


def test_start_needs_a_due_date_and_a_placement_not_after_the_start(sw: Api) -> None:
    child = sw.create_child("REU-3")
    body = {"type": "reunification", "started_on": "2025-09-01", "data": {}}
    response = sw.post(
        f"/children/{child['id']}/journeys", {**body, "data": {"assessment_kind": "schedule_3"}}
    )
    assert response.status_code == 422
    assert response.json()["reasons"] == [
        "Give the date the care plan sets for the assessment, or the date the child was "
        "placed before it (regulation 20: 10 working days)."
    ]
    late = {"assessment_kind": "schedule_3", "placed_before_assessment_on": "2025-09-02"}
    response = sw.post(f"/children/{child['id']}/journeys", {**body, "data": late})
    assert response.status_code == 422
    assert response.json()["reasons"] == [
        "A placement before the assessment cannot be dated after the assessment started."
    ]


def test_decision_not_to_proceed_and_stopping(sw: Api, adm: Api) -> None:
    child = sw.create_child("REU-4")
    data = {"assessment_kind": "schedule_3", "assessment_due": "2025-10-31"}
    journey = sw.start(child["id"], "reunification", "2025-09-01", data)
    journey = sw.fire(journey, "complete_assessment", "2025-10-01", {"summary": "Concerns."})
    journey = adm.fire(
        journey, "decide", "2025-10-02", {"decision": "not_proceeding", "reason": "Risk."}
    )
    assert (journey["state"], journey["status"]) == ("not_proceeding", "closed")

    other = sw.start(sw.create_child("REU-5")["id"], "reunification", "2025-09-01", data)
    assert sw.fire(other, "return_home", "2025-09-02", expect=409)["error"] != "journey_closed"
    refused = sw.fire(other, "stop", "2025-09-10", expect=422)
    assert refused["errors"] == ["reason is required"]
    stopped = sw.fire(other, "stop", "2025-09-10", {"reason": "Parent withdrew."})
    assert stopped["state"] == "not_proceeding"
    assert {d["status"] for d in stopped["deadlines"]} == {"cancelled"}
